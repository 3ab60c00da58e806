//go:build race

package reduce

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = true
