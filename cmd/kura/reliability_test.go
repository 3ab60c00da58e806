package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestUnwritableOutputsBeforeWork checks that outputs in a directory that
// does not take files are refused before any work (for embed, before any
// API call is billed), with a usage error.
func TestUnwritableOutputsBeforeWork(t *testing.T) {
	if st, err := os.Stat("/proc"); err != nil || !st.IsDir() {
		t.Skip("no /proc to stand for a read-only directory")
	}
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "t.txt")
	os.WriteFile(in, []byte("a\nb\n"), 0o644)
	api := []string{"--embedder", "openai", "--base-url", srv.URL + "/v1"}
	for _, args := range [][]string{
		append([]string{"embed", "--in", in, "--out", "/proc/v.npy"}, api...),
		append([]string{"embed", "--in", in, "--out", filepath.Join(dir, "v.npy"), "--stats-json", "/proc/s.json"}, api...),
		{"cluster", "--in", filepath.Join(dir, "v.npy"), "--out", "/proc/labels.txt"},
		{"mock-api", "--addr", "127.0.0.1:0", "--stats-json", "/proc/s.json"},
	} {
		if code := run(context.Background(), args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (a usage error before any work)", args, code)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the API was called %d times before the unwritable output was noticed", n)
	}
}

// TestPricesRefusedAsUsageErrors checks that a price no API has (huge,
// negative, NaN, infinite) in any price flag or price file is a usage
// error naming the flag and the value, given before any work: a price of
// 1e308 used to overflow the cost to +Inf ("$+Inf" in embed's closing line)
// and make --stats-json unencodable. No --stats-json file is left.
func TestPricesRefusedAsUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.txt")
	os.WriteFile(in, []byte("a b c\nd e f\n"), 0o644)
	stats := filepath.Join(dir, "s.json")
	prices := filepath.Join(dir, "prices.json")
	os.WriteFile(prices, []byte(`{"text-embedding-3-small": 1e308}`), 0o644)
	embed := []string{"embed", "--in", in, "--out", filepath.Join(dir, "v.npy"), "--mock", "--dims", "4", "--stats-json", stats}
	lt := []string{"loadtest", "--quiet", "--scales", "10,20", "--sample-size", "50", "--out", "-", "--embedder", "hash"}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{append(embed, "--price-per-million", "1e308"), []string{"--price-per-million", "1e308"}},
		{append(embed, "--price-per-million", "1.7e308"), []string{"--price-per-million", "1.7e308"}},
		{append(embed, "--price-per-million", "-1"), []string{"--price-per-million", "-1"}},
		{append(embed, "--price-per-million", "NaN"), []string{"--price-per-million", "NaN"}},
		{append(embed, "--price-per-million", "+Inf"), []string{"--price-per-million", "+Inf"}},
		{append(embed, "--prices", prices), []string{"--prices", prices, "1e+308"}},
		{append(lt, "--price-per-million", "1e308"), []string{"--price-per-million", "1e308"}},
		{append(lt, "--prices", prices), []string{"--prices", prices, "1e+308"}},
		{append(lt, "--pipeline", "full", "--mock", "--llm-price-input", "1e308"), []string{"--llm-price-input", "1e308"}},
		{append(lt, "--pipeline", "full", "--mock", "--llm-price-output", "-0.5"), []string{"--llm-price-output", "-0.5"}},
		{[]string{"run", "--data", dir, "--llm-base-url", "http://127.0.0.1:1", "--llm-price-input", "Inf"}, []string{"--llm-price-input", "Inf"}},
	} {
		_, errText, code := execCLI(t, tt.args...).text()
		if code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", tt.args[len(tt.args)-2:], code, errText)
		}
		for _, w := range tt.want {
			if !strings.Contains(errText, w) {
				t.Errorf("%v: error %q does not name %q", tt.args[len(tt.args)-2:], errText, w)
			}
		}
		if _, err := os.Stat(stats); !os.IsNotExist(err) {
			t.Errorf("%v: --stats-json file exists after the failure: %v", tt.args[len(tt.args)-2:], err)
		}
	}
}

// TestEmbedRemovesStaleTemps checks that the hidden temporary outputs of a
// killed run (.v.partial-PID.npy and --stats-json's .NAME.pidPID-N.tmp, PID
// gone) are removed by the next run, and that of a live process is not.
func TestEmbedRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.txt")
	os.WriteFile(in, []byte("a\nb\n"), 0o644)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("cannot start a process to get a dead PID:", err)
	}
	stale := filepath.Join(dir, ".v.partial-"+strconv.Itoa(dead.Process.Pid)+".npy")
	live := filepath.Join(dir, ".v.partial-"+strconv.Itoa(os.Getppid())+".npy")
	staleStats := filepath.Join(dir, ".stats.json.pid"+strconv.Itoa(dead.Process.Pid)+"-1.tmp") // --stats-json's (internal/outfile)
	for _, p := range []string{stale, live, staleStats} {
		os.WriteFile(p, []byte("\x93NUMPY half a file"), 0o644)
	}
	_, stderr, err, _ := execCLI(t, "embed", "--in", in, "--out", filepath.Join(dir, "v.npy"), "--mock", "--dims", "4").all()
	if err != nil {
		t.Fatal(err)
	}
	// Each removal is said in a line that fits 80 columns but for the
	// path, which comes last.
	said := 0
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, "msg=\"removed") {
			continue
		}
		said++
		for _, p := range []string{stale, staleStats} {
			if short, ok := strings.CutSuffix(l, p); ok && len(short) > 80 {
				t.Errorf("%d columns before the path: %q", len(short), l)
			}
			if strings.Contains(l, p) && !strings.HasSuffix(l, p) && !strings.HasSuffix(l, p+"]") {
				t.Errorf("the path is not at the end: %q", l)
			}
		}
	}
	if said != 2 {
		t.Errorf("%d lines say what was removed, want 2:\n%s", said, stderr)
	}
	for _, p := range []string{stale, staleStats} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's temporary file was removed: %v", err)
	}
}
