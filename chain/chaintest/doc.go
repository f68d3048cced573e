// Package chaintest has helpers for tests of chain and the packages above it:
// a fake engine that accepts any seal, a simulated clock, and a way to make a
// chain on an in-memory LevelDB and to mine blocks on it.
//
// chaintest imports chain and clock only; no production code imports it.
package chaintest
