/* replay -- a main() for the fuzz harnesses without libFuzzer: run each file (or each file of each directory) once */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX (1u << 20)   /* a seed is small; anything larger is a mistake */

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	uint8_t *buf = malloc(REPLAY_MAX);
	size_t n = buf ? fread(buf, 1, REPLAY_MAX, f) : 0;
	int bad = !buf || ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: unreadable or over %u bytes\n", path, REPLAY_MAX);
		free(buf);
		return 1;
	}
	/* an exact-size copy, so that ASan sees a read one byte past the input */
	uint8_t *in = malloc(n ? n : 1);
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of `dir`, in name order (a stable replay). */
static int run_dir(const char *dir, unsigned *count)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, NULL);
	if (n < 0) {
		perror(dir);
		return 1;
	}
	char **names = calloc((size_t)n + 1, sizeof(*names));
	int k = 0, fails = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.')
			names[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	qsort(names, (size_t)k, sizeof(*names), cmp);
	for (int i = 0; i < k; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			fails += run_file(path);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return fails;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int fails = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			fails += run_dir(argv[i], &count);
		} else {
			fails += run_file(argv[i]);
			count++;
		}
	}
	if (count == 0) {
		fprintf(stderr, "replay: no input given\n");
		return 1;
	}
	/* the plain closing line test runners read */
	printf("%u passed, %d failed\n", count - (unsigned)fails, fails);
	return fails ? 1 : 0;
}
