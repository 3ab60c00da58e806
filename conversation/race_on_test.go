//go:build race

package conversation

// raceEnabled reports whether the race detector is on (it slows the
// byte-scanning tests of huge lines tenfold).
const raceEnabled = true
