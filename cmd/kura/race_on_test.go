//go:build race

package main

// raceEnabled reports whether the race detector is on (the tests that run
// many load tests as processes skip under it).
const raceEnabled = true
