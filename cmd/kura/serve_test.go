package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
	"github.com/kura-go/kura/server"
)

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--dir is required"},
		{[]string{"serve", "--dir", filepath.Join(dir, "missing")}, "missing: no such directory"},
		{[]string{"serve", "--dir", writeCLIFile(t, dir, "f.jsonl", "")}, "not a directory"},
		{[]string{"serve", "--dir", dir, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		_, errText, code := execCLI(t, tt.args...).text()
		if code != 2 || !strings.Contains(errText, tt.want) {
			t.Errorf("%v: exit %d (%s), want 2 (%s)", tt.args, code, errText, tt.want)
		}
	}
}

// TestServeKuraRunOutput serves what `kura run` writes for the MT-Bench
// checkpoint: the map shows every conversation at its own position from
// conversation_map.jsonl.
func TestServeKuraRunOutput(t *testing.T) {
	data := refdata.Path(t, "data/kura-mtbench")
	dir := t.TempDir()
	if _, errText, code := execCLI(t, "run", "--data", data, "--out", dir).text(); code != 0 {
		t.Fatalf("kura run: exit %d: %s", code, errText)
	}
	srv, err := server.New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var ov struct {
		Conversations int
		MapMode       string `json:"map_mode"`
		Problems      []json.RawMessage
	}
	var pts struct{ IDs []string }
	for path, v := range map[string]any{"/api/overview": &ov, "/api/points": &pts} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if ov.Conversations != 1000 || ov.MapMode != server.MapConversations || len(ov.Problems) != 0 || len(pts.IDs) != 1000 {
		t.Errorf("overview %+v, %d points; want 1000 conversations each at its own position, no problems", ov, len(pts.IDs))
	}
}
