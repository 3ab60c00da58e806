package conversation

import "testing"

func TestKindCount(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		n    int
		want string
	}{
		{Conversations, 0, "0 conversations"},
		{Conversations, 1, "1 conversation"},
		{Summaries, 1, "1 summary"},
		{Summaries, 2, "2 summaries"},
		{Clusters, 1, "1 cluster"},
		{Clusters, 2, "2 clusters"},
		{MetaClusters, 1, "1 meta cluster"},
		{MetaClusters, 1200, "1,200 meta clusters"},
		{Dimensionality, 1, "1 projected cluster"},
		{Dimensionality, 19, "19 projected clusters"},
		{Kind(99), 1, "1 Kind(99)"},
	} {
		if got := tt.kind.Count(tt.n); got != tt.want {
			t.Errorf("%v.Count(%d) = %q, want %q", tt.kind, tt.n, got, tt.want)
		}
	}
}
