/* test_ipam_csv -- placeholder */
int main(void) { return 0; }
