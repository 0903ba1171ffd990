/* SPDX-License-Identifier: ISC */
/*
 * A tiny test harness: named cases, runnable singly (`./x_test NAME`),
 * printing "ok - NAME" or "not ok - NAME: ..." with expected and got.
 * The first line is the plan, "1..N", the number of cases that will
 * run: tests/run.sh fails a binary whose cases do not all report (it
 * crashed) or whose exit status is not 0.
 */
#ifndef NOMX_CHECK_H
#define NOMX_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_case;
static int check_failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("#   %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		check_failed_case = 1; \
	} \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	CHECK(g_ == w_, "%s: expected %lld, got %lld", #got, w_, g_); \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	CHECK(strcmp(g_, w_) == 0, "%s: expected \"%s\", got \"%s\"", #got, w_, g_); \
} while (0)

struct check_case {
	const char *name;
	void (*fn)(void);
};

static int
check_run(const struct check_case *cases, size_t n, int argc, char **argv)
{
	size_t plan = 0;

	/* Line-buffered, so the cases that ran are seen even if a later one
	 * aborts (a sanitizer report, a crash). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		plan += argc <= 1 || strcmp(argv[1], cases[i].name) == 0;
	}
	printf("1..%zu\n", plan);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) {
			continue;
		}
		check_failed_case = 0;
		cases[i].fn();
		printf("%s - %s\n", check_failed_case ? "not ok" : "ok", cases[i].name);
		check_failures += check_failed_case;
	}
	return check_failures ? 1 : 0;
}

#define CHECK_MAIN(...) \
	int main(int argc, char **argv) { \
		static const struct check_case cases_[] = { __VA_ARGS__ }; \
		return check_run(cases_, sizeof(cases_) / sizeof(cases_[0]), argc, argv); \
	}

#define CASE(fn) { #fn, fn }

#endif
