package server

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

func newTestServer(t testing.TB, dir string) *httptest.Server {
	t.Helper()
	s, err := New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s) // listens on 127.0.0.1
	t.Cleanup(func() { ts.Close(); s.Close() })
	return ts
}

// get fetches path (sent as given, not cleaned) and returns status and body.
func get(t *testing.T, ts *httptest.Server, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = path // keep "..", "%2e" and "%2f" exactly as written
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getJSON(t *testing.T, ts *httptest.Server, path string, v any) {
	t.Helper()
	code, body := get(t, ts, path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

func TestMTBench(t *testing.T) {
	dir := refdata.Path(t, "data/kura-mtbench")
	ts := newTestServer(t, dir)

	var ov struct {
		Clusters, Conversations, Roots int
		LeafClusters                   int    `json:"leaf_clusters"`
		MapMode                        string `json:"map_mode"`
		Problems                       []fileProblems
	}
	getJSON(t, ts, "/api/overview", &ov)
	if ov.Clusters != 19 || ov.LeafClusters != 13 || ov.Roots != 6 || ov.Conversations != 1000 || ov.MapMode != MapAroundClusters || len(ov.Problems) != 0 {
		t.Errorf("overview = %+v, want 19 clusters (13 leaves, 6 roots), 1000 conversations, around-clusters, no problems", ov)
	}

	var tree struct {
		Nodes []treeNode
		Roots []int
		Total int
	}
	getJSON(t, ts, "/api/tree", &tree)
	sumRoots := 0
	for _, r := range tree.Roots {
		sumRoots += tree.Nodes[r].Count
	}
	if sumRoots != 1000 {
		t.Errorf("root clusters hold %d conversations, want 1000", sumRoots)
	}
	top := tree.Nodes[tree.Roots[0]]
	if top.Count != 358 || math.Abs(top.Share-0.358) > 1e-12 || len(top.Children) == 0 {
		t.Errorf("largest root = %+v, want 358 conversations (35.8%%) with children", top)
	}

	var pts struct {
		Mode string
		X, Y []float64
		Leaf []int
		IDs  []string
	}
	getJSON(t, ts, "/api/points", &pts)
	if len(pts.X) != 1000 || len(pts.IDs) != 1000 || len(pts.Leaf) != 1000 {
		t.Fatalf("points: %d, want 1000", len(pts.X))
	}
	// Each conversation lies within its leaf cluster's disc.
	for i := range pts.X {
		leaf := tree.Nodes[pts.Leaf[i]]
		if len(leaf.Children) != 0 || leaf.X == nil {
			t.Fatalf("point %d: leaf %q is not a leaf with a position", i, leaf.ID)
		}
		if d := math.Hypot(pts.X[i]-*leaf.X, pts.Y[i]-*leaf.Y); d > 1.0 {
			t.Errorf("point %s is %.3g from its cluster's point", pts.IDs[i], d)
		}
	}

	// A leaf cluster of question 93: metadata counts and summary facets.
	var cl struct {
		Name     string
		Count    int
		Facets   []facet
		Metadata []facet
		Members  []memberRow
		Path     []map[string]string
	}
	getJSON(t, ts, "/api/cluster?id=64ef8fe5e766480aaf4d6ba85710eafd", &cl)
	if cl.Count != 12 || len(cl.Members) != 12 || len(cl.Path) != 1 {
		t.Errorf("cluster: count %d, members %d, path %v", cl.Count, len(cl.Members), cl.Path)
	}
	var qid *facet
	for i := range cl.Metadata {
		if cl.Metadata[i].Name == "question_id" {
			qid = &cl.Metadata[i]
		}
	}
	if qid == nil || len(qid.Values) != 1 || qid.Values[0] != (count{"93", 12}) {
		t.Errorf("question_id facet = %+v, want 93 × 12", qid)
	}
	if len(cl.Facets) == 0 || cl.Facets[0].Name != "languages" {
		t.Errorf("summary facets = %+v", cl.Facets)
	}

	var cv struct {
		ID           string
		Conversation struct {
			Messages []struct{ Role, Content string }
		}
		Summary struct{ Summary string }
		Path    []map[string]string
	}
	getJSON(t, ts, "/api/conversation?id=93_claude-v1_496", &cv)
	if len(cv.Conversation.Messages) != 4 || cv.Summary.Summary == "" || len(cv.Path) != 2 {
		t.Errorf("conversation: %d messages, summary %q, path %v", len(cv.Conversation.Messages), cv.Summary.Summary, cv.Path)
	}

	var sr struct {
		Clusters      []map[string]any
		Conversations []memberRow
		Matches       []int
		Total         int
	}
	getJSON(t, ts, "/api/search?q=Hawaii", &sr)
	if sr.Total == 0 || sr.Total != len(sr.Matches) || len(sr.Conversations) == 0 {
		t.Errorf("search hawaii: %d matches", sr.Total)
	}
	getJSON(t, ts, "/api/search?q=pregnancy", &sr)
	if len(sr.Clusters) < 2 {
		t.Errorf("search pregnancy: %d clusters, want the leaf and its parent", len(sr.Clusters))
	}

	for _, p := range []string{"/api/cluster?id=nope", "/api/conversation?id=nope", "/api/search?q=", "/api/nothing"} {
		if code, body := get(t, ts, p); code < 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %s, want an error", p, code, body)
		}
	}
	code, body := get(t, ts, "/")
	if code != 200 || !strings.Contains(body, "/assets/app.js") {
		t.Errorf("GET /: %d", code)
	}
	for _, p := range []string{"/assets/app.js", "/assets/charts/charts.js", "/assets/charts/uplot/uPlot.iife.min.js", "/assets/charts/uplot/LICENSE"} {
		if code, _ := get(t, ts, p); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
}

const (
	goodCluster  = `{"id":"a","name":"Alpha","description":"d","slug":"s","chat_ids":["c1","c2"],"parent_id":null,"count":2}`
	goodProj     = `{"id":"a","name":"Alpha","description":"d","slug":"s","chat_ids":["c1","c2"],"parent_id":null,"x_coord":1.5,"y_coord":-2,"level":0,"count":2}`
	secretMarker = "TOP-SECRET-OUTSIDE-DIR"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOutsideDirUnreadable serves a directory next to files it must not
// reveal: reached by "..", by encoded "..", and by symbolic links.
func TestOutsideDirUnreadable(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dir := filepath.Join(base, "served")
	for _, d := range []string{outside, dir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secretResults, err := os.ReadFile("../report/testdata/run_100-500.json")
	if err != nil {
		t.Fatal(err)
	}
	// A valid results file and checkpoint files outside, marked.
	write(t, filepath.Join(outside, "load_test_results_secret.json"), strings.Replace(string(secretResults), `"hostname": "`, `"hostname": "`+secretMarker, 1))
	write(t, filepath.Join(base, "secret.txt"), secretMarker)
	write(t, filepath.Join(outside, "summaries.jsonl"), `{"summary":"`+secretMarker+`","request":null,"topic":null,"languages":[],"task":null,"concerning_score":1,"user_frustration":1,"assistant_errors":[],"chat_id":"c1","metadata":{},"embedding":null}`+"\n")
	write(t, filepath.Join(dir, "clusters.jsonl"), goodCluster+"\n")
	for link, target := range map[string]string{
		"load_test_results_link.json": filepath.Join(outside, "load_test_results_secret.json"), // absolute
		"summaries.jsonl":             "../outside/summaries.jsonl",                            // relative
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
	}
	ts := newTestServer(t, dir)

	for _, p := range []string{
		"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
		"/assets/..%2f..%2fsecret.txt", "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/assets/charts/..%5c..%5csecret.txt",
		"/assets/charts/%252e%252e/%252e%252e/secret.txt", "/api/conversation?id=../../secret.txt",
		"/api/cluster?id=%2e%2e%2fsecret.txt", "/load_test_results_link.json", "/assets/..%00/secret.txt",
		"/api/loadtest", "/api/overview", "/api/search?q=" + url.QueryEscape(secretMarker), "/api/points", "/api/tree",
	} {
		_, body := get(t, ts, p)
		if strings.Contains(body, secretMarker) {
			t.Errorf("GET %s revealed a file outside the served directory", p)
		}
	}

	// The links are reported as refused, in the page's problem lists.
	var lt struct {
		Runs     []json.RawMessage
		Problems []fileProblems
	}
	getJSON(t, ts, "/api/loadtest", &lt)
	if len(lt.Runs) != 0 || len(lt.Problems) != 1 || !strings.Contains(lt.Problems[0].Problems[0], "load_test_results_link.json: refused") {
		t.Errorf("loadtest = %d runs, problems %+v; want the link refused", len(lt.Runs), lt.Problems)
	}
	var ov struct{ Problems []fileProblems }
	getJSON(t, ts, "/api/overview", &ov)
	if len(ov.Problems) != 1 || ov.Problems[0].File != "summaries.jsonl" || !strings.Contains(ov.Problems[0].Problems[0], "refused") {
		t.Errorf("overview problems = %+v, want summaries.jsonl refused", ov.Problems)
	}
}

// TestBrokenFiles: a broken line or file is reported with its file and line,
// and everything else is still served.
func TestBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "clusters.jsonl"), goodCluster+"\n{\"id\": 3}\nnot json\n")
	write(t, filepath.Join(dir, "dimensionality.jsonl"), goodProj+"\n")
	write(t, filepath.Join(dir, "conversations.jsonl"), "\x00\x01garbage")
	write(t, filepath.Join(dir, "load_test_results_20260101_000000.json"), `{"schema_version": 1, "scales": [`)
	write(t, filepath.Join(dir, "load_test_results_20260101_000001.json"), `{"schema_version": 99}`)
	good, _ := os.ReadFile("../report/testdata/run_100-500.json")
	write(t, filepath.Join(dir, "load_test_results_20260101_000002.json"), string(good))
	ts := newTestServer(t, dir)

	var ov struct {
		Clusters, Conversations int
		MapMode                 string `json:"map_mode"`
		Problems                []fileProblems
	}
	getJSON(t, ts, "/api/overview", &ov)
	if ov.Clusters != 1 || ov.Conversations != 2 || ov.MapMode != MapAroundClusters {
		t.Errorf("overview = %+v, want the good cluster and its 2 conversations on the map", ov)
	}
	byFile := map[string]fileProblems{}
	for _, p := range ov.Problems {
		byFile[p.File] = p
	}
	if p := byFile["clusters.jsonl"]; p.Count != 2 || !strings.HasPrefix(p.Problems[0], "clusters.jsonl:2: ") || !strings.HasPrefix(p.Problems[1], "clusters.jsonl:3: ") {
		t.Errorf("clusters.jsonl problems = %+v, want lines 2 and 3", p)
	}
	if p := byFile["conversations.jsonl"]; p.Count != 1 || !strings.HasPrefix(p.Problems[0], "conversations.jsonl:1: ") {
		t.Errorf("conversations.jsonl problems = %+v", p)
	}
	var lt struct {
		Runs     []json.RawMessage
		Problems []fileProblems
	}
	getJSON(t, ts, "/api/loadtest", &lt)
	if len(lt.Runs) != 1 || len(lt.Problems) != 2 ||
		!strings.Contains(lt.Problems[0].Problems[0], "load_test_results_20260101_000000.json: not a load test results file") ||
		!strings.Contains(lt.Problems[1].Problems[0], "schema_version 99") {
		t.Errorf("loadtest: %d runs, problems %+v", len(lt.Runs), lt.Problems)
	}
}

// TestImpossibleResults: a results file with a number no measurement can
// have is refused as kura report refuses it (file, scale and field), listed
// among the problems like any other unreadable results file, and the good
// runs are still charted.
func TestImpossibleResults(t *testing.T) {
	for _, tt := range []struct{ name, scale, want string }{
		{"negative time", `{"scale": 30, "conversations": 30, "total_wall_s": -1}`, "scales[0] (scale 30): total_wall_s is -1: want a number >= 0"},
		{"negative memory", `{"scale": 30, "conversations": 30, "peak_rss_bytes": -5}`, "scales[0] (scale 30): peak_rss_bytes is -5: want a number >= 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := "load_test_results_20260101_000000.json"
			write(t, filepath.Join(dir, bad), `{"schema_version": 2, "scales": [`+tt.scale+`]}`)
			good, err := os.ReadFile("../report/testdata/run_100-500.json")
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "load_test_results_20260101_000001.json"), string(good))
			ts := newTestServer(t, dir)
			var lt struct {
				Runs     []json.RawMessage
				Problems []fileProblems
			}
			getJSON(t, ts, "/api/loadtest", &lt)
			if len(lt.Runs) != 1 || len(lt.Problems) != 1 || lt.Problems[0].File != bad ||
				len(lt.Problems[0].Problems) != 1 || lt.Problems[0].Problems[0] != bad+": "+tt.want {
				t.Errorf("loadtest: %d runs, problems %+v; want the good run and %q", len(lt.Runs), lt.Problems, bad+": "+tt.want)
			}
		})
	}
}

func TestMapModes(t *testing.T) {
	t.Run("coordinates file", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "clusters.jsonl"), goodCluster+"\n")
		// As kura run writes it (pipeline.ConversationPoint), and x/y.
		write(t, filepath.Join(dir, "conversation_map.jsonl"), `{"chat_id":"c1","x_coord":1,"y_coord":2,"cluster_id":"a"}`+"\n"+`{"chat_id":"c2","x":3,"y":4}`+"\n"+`{"chat_id":"c3"}`+"\n")
		ts := newTestServer(t, dir)
		var pts struct {
			Mode string
			X, Y []float64
			IDs  []string
			Note string
		}
		getJSON(t, ts, "/api/points", &pts)
		if pts.Mode != MapConversations || len(pts.X) != 2 || pts.X[1] != 3 || pts.Y[0] != 2 {
			t.Errorf("points = %+v", pts)
		}
		var ov struct{ Problems []fileProblems }
		getJSON(t, ts, "/api/overview", &ov)
		if len(ov.Problems) != 1 || !strings.HasPrefix(ov.Problems[0].Problems[0], "conversation_map.jsonl:3: ") {
			t.Errorf("problems = %+v", ov.Problems)
		}
	})
	t.Run("no coordinates", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "clusters.jsonl"), goodCluster+"\n")
		ts := newTestServer(t, dir)
		var pts struct {
			Mode string
			X    []float64
		}
		getJSON(t, ts, "/api/points", &pts)
		if pts.Mode != MapNone || len(pts.X) != 0 {
			t.Errorf("points = %+v", pts)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "meta_clusters.jsonl"),
			`{"id":"a","name":"A","description":"d","slug":"s","chat_ids":["c1"],"parent_id":"b"}`+"\n"+
				`{"id":"b","name":"B","description":"d","slug":"s","chat_ids":["c1"],"parent_id":"a"}`+"\n")
		ts := newTestServer(t, dir)
		var tree struct{ Roots []int }
		getJSON(t, ts, "/api/tree", &tree)
		if len(tree.Roots) == 0 {
			t.Error("a parent cycle left no root")
		}
	})
}

func TestLoopbackOnly(t *testing.T) {
	h := LoopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	for host, want := range map[string]int{
		"127.0.0.1:8765": 200, "localhost:8765": 200, "[::1]:8765": 200, "127.0.0.2": 200,
		"evil.example:8765": 403, "10.0.0.1:8765": 403, "": 403,
	} {
		r := httptest.NewRequest("GET", "/api/overview", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}
