// Package poll is the one polling helper of the tests: Until checks a
// condition until it holds or a timeout passes. Inside a testing/synctest
// bubble its time is the bubble's, so a poll there is exact; elsewhere it
// bounds tests of real processes, which may only wait on the wall clock.
//
// poll imports no chaind package; only tests use it.
package poll
