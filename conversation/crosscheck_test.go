package conversation

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

func crossCheckDir(t *testing.T, dir string) []string {
	t.Helper()
	cp, err := FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	var reps []*Report
	for _, k := range Kinds {
		if p := cp.Path(k); p != "" {
			rep, err := CheckFile(context.Background(), p, k, CheckOptions{CollectRefs: true})
			if err != nil {
				t.Fatal(err)
			}
			reps = append(reps, rep)
		}
	}
	var out []string
	for _, e := range CrossCheck(reps) {
		out = append(out, e.Error())
	}
	return out
}

func TestCrossCheckMTBench(t *testing.T) {
	if got := crossCheckDir(t, refdata.Path(t, "data/kura-mtbench")); len(got) != 0 {
		t.Errorf("kura-mtbench: %q, want no findings", got)
	}
}

func TestCrossCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conv := func(id string) string { return strings.Replace(goodConv, `"chat_id":"c1"`, `"chat_id":"`+id+`"`, 1) }
	sum := func(id string) string { return strings.Replace(goodSummary, `"chat_id":"c1"`, `"chat_id":"`+id+`"`, 1) }
	cl := func(id, parent string, members ...string) string {
		p := "null"
		if parent != "" {
			p = `"` + parent + `"`
		}
		return `{"id":"` + id + `","name":"n","description":"d","slug":"s","chat_ids":["` + strings.Join(members, `","`) + `"],"parent_id":` + p + `}`
	}
	c := write("conversations.jsonl", conv("a"), conv("b"), conv("a"))
	s := write("summaries.jsonl", sum("a"), sum("b"), sum("z"))
	k := write("clusters.jsonl", cl("k1", "m1", "a", "b"), cl("k2", "nope", "y"))
	write("meta_clusters.jsonl", cl("m1", "", "a", "b"))
	got := crossCheckDir(t, dir)
	want := []string{
		c + `: 1 duplicate chat id (e.g. "a")`,
		s + `: 1 summary of a chat id not in ` + c + ` (e.g. "z")`,
		k + `: 1 chat id listed by clusters but not in ` + s + ` (e.g. "y")`,
		k + `: 1 parent id that names no cluster of the checkpoint (e.g. "nope")`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
