/* test_ipam_index -- placeholder */
int main(void) { return 0; }
