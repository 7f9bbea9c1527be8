/* lmdbhold -- hold an LMDB environment's write lock for N seconds, as a `ddictl --db` import or a backup would */
/*
 * Usage: lmdbhold DIR SECONDS
 *
 * Opens the environment in DIR (the directory ddiplane's --db names),
 * begins a real write transaction (mdb_txn_begin without MDB_RDONLY, so it
 * takes the writer mutex in lock.mdb that every other writer waits on),
 * prints "holding EPOCH" on stdout once it has it (tests wait for that
 * line), sleeps SECONDS, aborts the transaction (nothing written) and
 * prints "released EPOCH" (EPOCH: CLOCK_REALTIME seconds with nanoseconds,
 * as `date +%s.%N`, so that a test can order events around the hold).
 * Exit 0, or 1 with the LMDB error on stderr.
 * For tests/integration/storelock.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lmdb.h>

static void say(const char *what)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	printf("%s %lld.%09ld\n", what, (long long)now.tv_sec, now.tv_nsec);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	int rc;
	if (argc != 3) {
		fprintf(stderr, "usage: lmdbhold DIR SECONDS\n");
		return 2;
	}
	double secs = atof(argv[2]);
	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0640)) != 0) {
		fprintf(stderr, "lmdbhold: %s: %s\n", argv[1], mdb_strerror(rc));
		return 1;
	}
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0) {
		fprintf(stderr, "lmdbhold: write transaction: %s\n", mdb_strerror(rc));
		mdb_env_close(env);
		return 1;
	}
	say("holding");
	struct timespec ts = { .tv_sec = (time_t)secs,
	                       .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) != 0)
		;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	say("released");
	return 0;
}
