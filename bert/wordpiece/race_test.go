//go:build race

package wordpiece

// raceEnabled: the race detector's instrumentation allocates, so allocation
// counts are not meaningful under -race.
const raceEnabled = true
