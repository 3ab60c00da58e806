package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden_run.json from this run")

// volatile matches the keys of what a run measures of the machine (time,
// CPU, memory and what follows from them) or of where it ran.
var volatile = regexp.MustCompile(`(_s$|_s_|wall|cpu|rss|heap|_at$|time|memory|throughput|gogc|hostname|artifacts|out_dir|environment|embedder_args)`)

// deterministic keeps what a fixed-seed run must reproduce exactly: the
// configuration, the baseline, every scale's data, vectors, storage, tokens,
// cost, clusters and quality, the fits of storage and cost, and the planned
// storage and cost.
func deterministic(t *testing.T, doc []byte) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	var strip func(v any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				if !volatile.MatchString(k) {
					out[k] = strip(e)
				}
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = strip(e)
			}
			return out
		}
		return v
	}
	if c, ok := d["config"].(map[string]any); ok {
		delete(c, "embedder") // the embedder's settings, which once travelled as its flags (embedder_args)
	}
	a, _ := d["analysis"].(map[string]any)
	p, _ := d["planning"].(map[string]any)
	delete(d, "analysis")
	delete(d, "planning")
	out := strip(d).(map[string]any)
	if a != nil {
		var fits []any
		for _, f := range a["fits"].([]any) {
			switch f.(map[string]any)["metric"] {
			case "storage", "estimated_cost", "actual_cost":
				fits = append(fits, f)
			}
		}
		out["analysis"] = map[string]any{"first_scale": a["first_scale"], "last_scale": a["last_scale"], "scale_ratio": a["scale_ratio"], "fits": fits}
	}
	if p != nil {
		kept := map[string]any{}
		for _, k := range []string{"target_conversations", "monthly_conversations", "extrapolation", "storage_for_target_bytes", "price_model",
			"price_per_million_usd", "tokens_per_conversation", "cost_per_1k_usd", "monthly_cost_usd", "monthly_actual_cost_usd"} {
			kept[k] = p[k]
		}
		out["planning"] = kept
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenRun runs a fixed-seed load test in this process and compares
// its results, less what depends on the machine (timings, memory), with
// testdata/golden_run.json, recorded before the package was split up: the
// split, and any later refactoring, must not change what a run reports.
func TestGoldenRun(t *testing.T) {
	cfg := testConfig(t)
	cfg.Seed = 7
	res, err := (&Runner{Toolkit: testToolkit()}).Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	got := deterministic(t, buf.Bytes())
	golden := filepath.Join("testdata", "golden_run.json")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("results differ from %s (run with -update only for an intended change):\n%s", golden, got)
	}
}
