package loadtest

import "testing"

func TestFailureWhy(t *testing.T) {
	tests := []struct {
		f    Failure
		want string
	}{
		{Failure{Scale: 100, Kind: "error", Error: "cluster: no points"}, "cluster: no points"},
		{Failure{Scale: 100, Kind: "timeout", Error: "context deadline exceeded"}, "context deadline exceeded"},
		{Failure{Scale: 100, Kind: "interrupted", Error: "context canceled"}, "stopped part way by an interrupt (Ctrl-C or a signal)"},
	}
	for _, tt := range tests {
		if got := tt.f.Why(); got != tt.want {
			t.Errorf("%s: Why() = %q, want %q", tt.f.Kind, got, tt.want)
		}
	}
}
