package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/internal/refdata"
	"github.com/kura-go/kura/llm"
	"github.com/kura-go/kura/mockapi"
	"github.com/kura-go/kura/sample"
	"github.com/kura-go/kura/vecfile"
)

func hashEmbedder(dims int) EmbedderFactory {
	return EmbedderFactory{
		ID: map[string]string{"embedder": "hash", "dims": itoa(dims)},
		Build: func(_ context.Context, corpus []string) (embed.Embedder, error) {
			e := hash.New(hash.Options{Dims: dims})
			e.Fit(corpus)
			return e, nil
		},
	}
}

// writeSample writes n synthetic conversations of k topics and returns the
// file and each conversation's topic.
func writeSample(t *testing.T, n, k int) (string, map[string]int) {
	t.Helper()
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Topics: k, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var convs []conversation.Conversation
	topic := map[string]int{}
	for g.More() {
		c, _, tp := g.Next()
		convs = append(convs, c)
		topic[c.ChatID] = tp
	}
	path := filepath.Join(t.TempDir(), "conversations.jsonl")
	if err := conversation.WriteFile(path, convs); err != nil {
		t.Fatal(err)
	}
	return path, topic
}

// checkDir validates every checkpoint file of dir and their references,
// as kura validate does.
func checkDir(t *testing.T, dir string, want ...conversation.Kind) {
	t.Helper()
	cp, err := conversation.FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	var reps []*conversation.Report
	for _, k := range want {
		p := cp.Path(k)
		if p == "" {
			t.Fatalf("%s: no %s file", dir, k)
		}
		rep, err := conversation.CheckFile(context.Background(), p, k, conversation.CheckOptions{CollectRefs: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.NumProblems > 0 || rep.Records == 0 {
			t.Fatalf("%s: %d records, problems %v", p, rep.Records, rep.Problems)
		}
		reps = append(reps, rep)
	}
	if f := conversation.CrossCheck(reps); len(f) > 0 {
		t.Fatalf("cross-check: %v", f)
	}
}

// ariOf scores clusters.jsonl against truth (chat id -> group); noise
// members count as their own label -1.
func ariOf(t *testing.T, dir string, truth map[string]int) float64 {
	t.Helper()
	cs, err := conversation.ReadFile[conversation.Cluster](filepath.Join(dir, "clusters.jsonl"), conversation.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tr, pr []int
	for ci, c := range cs {
		for _, id := range c.ChatIDs {
			tr = append(tr, truth[id])
			if c.Slug == NoiseSlug {
				pr = append(pr, -1)
			} else {
				pr = append(pr, ci)
			}
		}
	}
	if len(tr) != len(truth) {
		t.Fatalf("clusters list %d conversations, want %d", len(tr), len(truth))
	}
	ari, err := quality.AdjustedRandIndex(tr, pr)
	if err != nil {
		t.Fatal(err)
	}
	return ari
}

func stageOf(t *testing.T, res *Result, name string) StageStats {
	t.Helper()
	for _, s := range res.Stages {
		if s.Stage == name {
			return s
		}
	}
	t.Fatalf("no stage %s in %+v", name, res.Stages)
	return StageStats{}
}

// On Kura's MT-Bench checkpoint, offline: the baseline's summaries are
// used as they are, and the base clusters match question_id with ARI >= 0.9.
func TestMTBenchOffline(t *testing.T) {
	data := refdata.Path(t, "data/kura-mtbench")
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Data: data, Out: out, Embedder: hashEmbedder(1024)})
	if err != nil {
		t.Fatal(err)
	}
	checkDir(t, out, conversation.Summaries, conversation.Clusters, conversation.MetaClusters, conversation.Dimensionality)
	checkMap(t, out, 1000)
	sums, err := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(data, "summaries.jsonl"), conversation.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]int{}
	for _, s := range sums {
		q, _ := s.Metadata["question_id"].(interface{ String() string })
		truth[s.ChatID] = atoiOr(q.String())
	}
	ari := ariOf(t, out, truth)
	t.Logf("MT-Bench, baseline summaries, hash embedder, HDBSCAN: ARI %.4f vs question_id", ari)
	if ari < 0.9 {
		t.Errorf("ARI %.4f, want >= 0.9", ari)
	}
	meta, _ := conversation.ReadFile[conversation.Cluster](filepath.Join(out, "meta_clusters.jsonl"), conversation.ReadOptions{})
	roots := 0
	for _, c := range meta {
		if c.ParentID == nil {
			roots++
		}
	}
	if roots > 10 {
		t.Errorf("%d roots, want at most 10", roots)
	}
	if s := stageOf(t, res, StageMap); s.Status != "ran" || s.Items != 1000 {
		t.Errorf("map: %+v", s)
	}
	if s := stageOf(t, res, StageSummarise); s.Items != 1000 {
		t.Errorf("summarise: %+v", s)
	}

	// The extractive summariser from the conversations alone.
	out2 := t.TempDir()
	if _, err := Run(context.Background(), Options{Data: filepath.Join(data, "conversations.jsonl"), Out: out2, Embedder: hashEmbedder(1024), Map: MapOptions{Skip: true}}); err != nil {
		t.Fatal(err)
	}
	checkDir(t, out2, conversation.Summaries, conversation.Clusters, conversation.MetaClusters)
	ari2 := ariOf(t, out2, truth)
	t.Logf("MT-Bench, extractive summaries, hash embedder, HDBSCAN: ARI %.4f vs question_id", ari2)
	if ari2 < 0.9 {
		t.Errorf("extractive summaries: ARI %.4f, want >= 0.9", ari2)
	}
}

// checkMap checks the map files: every cluster placed at its level, every
// conversation placed, cluster points at the mean of their members'.
func checkMap(t *testing.T, dir string, n int) {
	t.Helper()
	dims, err := conversation.ReadFile[conversation.ProjectedCluster](filepath.Join(dir, "dimensionality.jsonl"), conversation.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := conversation.ReadFile[conversation.Cluster](filepath.Join(dir, "meta_clusters.jsonl"), conversation.ReadOptions{})
	if len(dims) != len(meta) {
		t.Fatalf("%d projected clusters, %d clusters", len(dims), len(meta))
	}
	pts := map[string][2]float64{}
	b, err := os.ReadFile(filepath.Join(dir, ConversationMapName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p ConversationPoint
		if err := json.Unmarshal([]byte(line), &p); err != nil || p.ClusterID == nil {
			t.Fatalf("conversation map line %q: %v", line, err)
		}
		pts[p.ChatID] = [2]float64{p.XCoord, p.YCoord}
	}
	if len(pts) != n {
		t.Fatalf("%d conversations on the map, want %d", len(pts), n)
	}
	byID := map[string]conversation.ProjectedCluster{}
	for _, p := range dims {
		byID[p.ID] = p
	}
	for _, p := range dims {
		want := 0
		if p.ParentID != nil {
			want = byID[*p.ParentID].Level + 1
		}
		if p.Level != want {
			t.Errorf("cluster %s at level %d, want %d", p.ID, p.Level, want)
		}
		x, y := 0.0, 0.0
		for _, id := range p.ChatIDs {
			x += pts[id][0]
			y += pts[id][1]
		}
		x /= float64(len(p.ChatIDs))
		y /= float64(len(p.ChatIDs))
		if diff(x, p.XCoord) > 1e-6 || diff(y, p.YCoord) > 1e-6 {
			t.Errorf("cluster %s at (%g, %g), its members' mean is (%g, %g)", p.ID, p.XCoord, p.YCoord, x, y)
		}
	}
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func newMockLLM(t *testing.T, c mockapi.Config) (*mockapi.Server, *llm.Client) {
	t.Helper()
	srv := mockapi.New(c)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cl, err := llm.New(llm.Config{BaseURL: ts.URL + "/v1", Price: llm.DefaultPrice, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

// Every LLM path against kura mock-api: summaries, names, hierarchy. The
// stages' token counts are the server's, and the cost is theirs at the
// price given.
func TestLLMPathsAgainstMockAPI(t *testing.T) {
	conv, _ := writeSample(t, 240, 12)
	srv, cl := newMockLLM(t, mockapi.Config{Seed: 5})
	out := t.TempDir()
	// K-means fixes the number of base clusters, whatever the mock writes.
	co := cluster.DefaultSpec()
	co.Algorithm, co.K = "kmeans", 12
	cache := filepath.Join(t.TempDir(), "cache")
	opts := Options{Data: conv, Out: out, LLM: cl, Embedder: hashEmbedder(512), CacheDir: cache,
		Cluster: co, Hierarchy: HierarchyOptions{MaxTopClusters: 4, Branching: 2}}
	var seen []StageStats // OnStage's reports, one per stage as it ends
	opts.OnStage = func(st StageStats) { seen = append(seen, st) }
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, res.Stages) {
		t.Errorf("OnStage saw %+v; the result has %+v", seen, res.Stages)
	}
	opts.OnStage = nil
	defer func() {
		// The same run in another directory, with the same cache: every
		// answer comes from the cache, and the files are the same.
		opts.Out = t.TempDir()
		before := srv.Stats().ByEndpoint.ChatCompletions
		res2, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.Stats().ByEndpoint.ChatCompletions - before; n != 0 || res2.Total().CacheHits != int(res.Total().Calls) {
			t.Errorf("second run: %d requests, %d cache hits for %d calls", n, res2.Total().CacheHits, res.Total().Calls)
		}
		for _, f := range []string{"summaries.jsonl", "clusters.jsonl", "meta_clusters.jsonl", "dimensionality.jsonl"} {
			a, _ := os.ReadFile(filepath.Join(out, f))
			b, _ := os.ReadFile(filepath.Join(opts.Out, f))
			if len(a) == 0 || string(a) != string(b) {
				t.Errorf("%s differs between the run and its cached rerun", f)
			}
		}
	}()
	checkDir(t, out, conversation.Summaries, conversation.Clusters, conversation.MetaClusters, conversation.Dimensionality)
	st := srv.Stats()
	tot := res.Total()
	if tot.Requests != st.ByEndpoint.ChatCompletions || tot.InputTokens != st.PromptTokens || tot.OutputTokens != st.CompletionTokens {
		t.Errorf("stages %+v; server %+v", tot, st)
	}
	if want := llm.DefaultPrice.Cost(st.PromptTokens, st.CompletionTokens); diff(tot.CostUSD, want) > 1e-9 {
		t.Errorf("cost %v, want %v", tot.CostUSD, want)
	}
	if s := stageOf(t, res, StageSummarise); s.Calls != 240 {
		t.Errorf("summarise made %d calls, want 240", s.Calls)
	}
	for _, name := range []string{StageName, StageHierarchy} {
		if s := stageOf(t, res, name); s.Calls == 0 {
			t.Errorf("%s made no LLM call: %+v", name, s)
		}
	}
	meta, _ := conversation.ReadFile[conversation.Cluster](filepath.Join(out, "meta_clusters.jsonl"), conversation.ReadOptions{})
	tree, err := BuildTree(meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Roots) > 4 {
		t.Errorf("%d roots, want at most 4", len(tree.Roots))
	}
	var noSingle func([]*TreeNode)
	noSingle = func(ns []*TreeNode) {
		for _, n := range ns {
			if len(n.Children) == 1 {
				t.Errorf("parent %q has a single child", n.Cluster.Name)
			}
			noSingle(n.Children)
		}
	}
	noSingle(tree.Roots)
	sums, _ := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(out, "summaries.jsonl"), conversation.ReadOptions{})
	for _, s := range sums {
		if s.ConcerningScore == nil || s.UserFrustration == nil || s.Request == nil || s.Task == nil {
			t.Fatalf("summary %s lacks facets: %+v", s.ChatID, s)
		}
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

// cancelAfter is a chat model that cancels the run after n answers.
type cancelAfter struct {
	ChatModel
	n      int64
	done   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAfter) JSON(ctx context.Context, r llm.Request, out any, check func() error) (llm.Usage, error) {
	u, err := c.ChatModel.JSON(ctx, r, out, check)
	if err == nil && c.done.Add(1) >= c.n {
		c.cancel()
	}
	return u, err
}

// Interrupting the summaries loses no finished summary: the rerun makes
// exactly the calls that were missing, and keeps the earlier answers.
func TestResumeAfterInterruptedSummaries(t *testing.T) {
	conv, _ := writeSample(t, 120, 6)
	srv, cl := newMockLLM(t, mockapi.Config{Seed: 2})
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	model := &cancelAfter{ChatModel: cl, n: 50, cancel: cancel}
	opts := Options{Data: conv, Out: out, LLM: model, NoCache: true, Embedder: hashEmbedder(256), Map: MapOptions{Skip: true},
		Name: NameOptions{Method: "keywords"}, Hierarchy: HierarchyOptions{Method: "agglomerative"}}
	res, err := Run(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v, want context.Canceled", err)
	}
	// The closing table says the stage was cut short (it said "ran").
	if s := stageOf(t, res, StageSummarise); s.Status != "stopped" {
		t.Errorf("interrupted stage's status %q, want stopped", s.Status)
	}
	done, err := readPartial(partialPath(out))
	if err != nil {
		t.Fatal(err)
	}
	// Answers that arrived before the cancellation was seen are kept too.
	if len(done) < 50 || len(done) >= 120 {
		t.Fatalf("%d summaries kept from the interrupted run, want 50..119", len(done))
	}
	// A request the interrupted run had sent may reach the server after Run
	// returned: count from when the server's total has settled.
	before := settledChatCompletions(srv)
	opts.LLM = cl
	res, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s := stageOf(t, res, StageSummarise)
	if s.Status != "resumed" || s.Resumed != len(done) || s.Calls != int64(120-len(done)) {
		t.Errorf("rerun: %+v, want %d resumed and %d calls", s, len(done), 120-len(done))
	}
	if got := srv.Stats().ByEndpoint.ChatCompletions - before; got != int64(120-len(done)) {
		t.Errorf("rerun sent %d requests, want %d", got, 120-len(done))
	}
	sums, _ := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(out, "summaries.jsonl"), conversation.ReadOptions{})
	if len(sums) != 120 {
		t.Fatalf("%d summaries, want 120", len(sums))
	}
	for _, x := range sums {
		if d, ok := done[x.ChatID]; ok && d.Summary != x.Summary {
			t.Errorf("%s: summary changed on resume", x.ChatID)
		}
	}
	if _, err := os.Stat(partialPath(out)); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
}

// A crash that cuts the last appended line keeps the complete lines.
func TestReadPartialCutLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), partialName)
	good := `{"summary":"s","request":null,"topic":null,"languages":null,"task":null,"concerning_score":null,"user_frustration":null,"assistant_errors":null,"chat_id":"a","metadata":{},"embedding":null}`
	if err := os.WriteFile(p, []byte(good+"\n"+good[:40]), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := readPartial(p)
	if err != nil || len(done) != 1 || done["a"].Summary != "s" {
		t.Fatalf("done %v, err %v", done, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != good+"\n" {
		t.Errorf("file not cut back to its last whole line: %q", b)
	}
}

// The cache answers duplicate conversations, and never with another
// conversation's chat id or metadata.
func TestSummaryCacheDuplicateTexts(t *testing.T) {
	g, _ := sample.NewGenerator(sample.Options{Conversations: 30, Topics: 3, Seed: 9})
	var convs []conversation.Conversation
	for g.More() {
		c, _, _ := g.Next()
		convs = append(convs, c)
	}
	// Ten more conversations with the same messages as the first ten.
	for i := 0; i < 10; i++ {
		d := convs[i]
		d.ChatID = "dup-" + itoa(i)
		d.Metadata = map[string]any{"copy_of": convs[i].ChatID}
		convs = append(convs, d)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "conversations.jsonl")
	if err := conversation.WriteFile(path, convs); err != nil {
		t.Fatal(err)
	}
	_, cl := newMockLLM(t, mockapi.Config{})
	cache := filepath.Join(dir, "cache")
	opts := Options{Data: path, Out: filepath.Join(dir, "a"), LLM: cl, CacheDir: cache, Embedder: hashEmbedder(128), Map: MapOptions{Skip: true},
		Name: NameOptions{Method: "keywords"}, Hierarchy: HierarchyOptions{Method: "agglomerative"}, Workers: 1}
	check := func(res *Result, out string, wantHits int) {
		t.Helper()
		s := stageOf(t, res, StageSummarise)
		if s.CacheHits < wantHits {
			t.Errorf("%d cache hits, want at least %d", s.CacheHits, wantHits)
		}
		sums, err := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(out, "summaries.jsonl"), conversation.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != len(convs) {
			t.Fatalf("%d summaries, want %d", len(sums), len(convs))
		}
		bySummary := map[string]string{}
		for i, s := range sums {
			if s.ChatID != convs[i].ChatID {
				t.Errorf("summary %d has chat_id %q, want %q", i, s.ChatID, convs[i].ChatID)
			}
			if strings.HasPrefix(s.ChatID, "dup-") && s.Metadata["copy_of"] == nil {
				t.Errorf("%s lost its own metadata: %v", s.ChatID, s.Metadata)
			}
			bySummary[s.ChatID] = s.Summary
		}
		for i := 0; i < 10; i++ {
			if bySummary["dup-"+itoa(i)] != bySummary[convs[i].ChatID] {
				t.Errorf("duplicate %d got a different summary", i)
			}
		}
	}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	check(res, opts.Out, 0)
	if s := stageOf(t, res, StageSummarise); s.Calls+int64(s.CacheHits) != 40 || s.Calls < 30 {
		t.Errorf("first run: %d calls and %d cache hits for 40 conversations with 30 distinct texts", s.Calls, s.CacheHits)
	}
	// A fresh output directory, the same cache: every answer from the cache.
	opts.Out = filepath.Join(dir, "b")
	res, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	check(res, opts.Out, 40)
	if s := stageOf(t, res, StageSummarise); s.Calls != 0 {
		t.Errorf("second run made %d calls, want 0", s.Calls)
	}
}

// A rerun recomputes exactly the stages a change affects.
func TestRerunRecomputesAffectedStages(t *testing.T) {
	conv, _ := writeSample(t, 200, 8)
	out := t.TempDir()
	opts := Options{Data: conv, Out: out, Embedder: hashEmbedder(256), Hierarchy: HierarchyOptions{MaxTopClusters: 5}}
	statuses := func(res *Result) map[string]string {
		m := map[string]string{}
		for _, s := range res.Stages {
			m[s.Stage] = s.Status
		}
		return m
	}
	expect := func(what string, res *Result, ran ...string) {
		t.Helper()
		got := statuses(res)
		for _, s := range Stages {
			want := "skipped"
			for _, r := range ran {
				if r == s {
					want = "ran"
				}
			}
			if got[s] != want {
				t.Errorf("%s: stage %s %s, want %s (%v)", what, s, got[s], want, res.Stages)
			}
		}
	}
	run := func() *Result {
		t.Helper()
		res, err := Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	opts.Until = StageCluster
	if res := run(); len(res.Stages) != 3 {
		t.Errorf("--until cluster ran %v", res.Stages)
	}
	opts.Until = ""
	expect("after --until cluster", run(), StageName, StageHierarchy, StageMap)
	os.RemoveAll(out)
	expect("first run", run(), Stages...)
	expect("unchanged", run())
	opts.Hierarchy.MaxTopClusters = 3
	res := run()
	expect("--max-top-clusters", res, StageHierarchy, StageMap)
	if r := stageOf(t, res, StageHierarchy).Reason; !strings.Contains(r, "max_top_clusters 5 -> 3") {
		t.Errorf("reason %q does not name the change", r)
	}
	opts.Cluster = cluster.DefaultSpec()
	opts.Cluster.Algorithm = "kmeans"
	opts.Cluster.K = 6
	expect("--algorithm kmeans", run(), StageCluster, StageName, StageHierarchy, StageMap)
	opts.Map.UMAP = DefaultMapParams()
	opts.Map.UMAP.MinDist = 0.2
	expect("--min-dist", run(), StageMap)
	opts.Embedder = hashEmbedder(512)
	expect("--dims", run(), StageEmbed, StageCluster, StageName, StageHierarchy, StageMap)
	// float16 storage reruns the embed stage and everything that reads
	// the vectors; float32 named explicitly is what a run without the
	// option did.
	opts.VectorDType = vecfile.Float32
	expect("--vector-dtype float32", run())
	opts.VectorDType = vecfile.Float16
	res = run()
	expect("--vector-dtype float16", res, StageEmbed, StageCluster, StageName, StageHierarchy, StageMap)
	if r := stageOf(t, res, StageEmbed).Reason; !strings.Contains(r, "vector_dtype (none) -> float16") {
		t.Errorf("reason %q does not name the change", r)
	}
	m, err := vecfile.Open(filepath.Join(out, EmbeddingsName), 512)
	if err != nil {
		t.Fatal(err)
	}
	if m.DType != vecfile.Float16 || m.Rows != 200 {
		t.Errorf("embeddings.npy holds %d rows of %v, want 200 of float16", m.Rows, m.DType)
	}
	m.Close()
	expect("float16 unchanged", run())
	// An edited output is recomputed, with what depends on it.
	if err := os.WriteFile(filepath.Join(out, "clusters.jsonl"), []byte{}, 0o644); err != nil {
		t.Fatal(err)
	}
	res = run()
	expect("edited clusters.jsonl", res, StageName)
	if r := stageOf(t, res, StageName).Reason; !strings.Contains(r, "clusters.jsonl was modified") {
		t.Errorf("reason %q", r)
	}
}

func TestOptionErrors(t *testing.T) {
	conv, _ := writeSample(t, 20, 2)
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no out", Options{Data: conv, Embedder: hashEmbedder(8)}},
		{"format", Options{Data: conv, Out: t.TempDir(), Format: "csv", Embedder: hashEmbedder(8)}},
		{"llm summaries without llm", Options{Data: conv, Out: t.TempDir(), Summarizer: "llm", Embedder: hashEmbedder(8)}},
		{"existing without summaries", Options{Data: conv, Out: t.TempDir(), Summarizer: "existing", Embedder: hashEmbedder(8)}},
		{"llm names without llm", Options{Data: conv, Out: t.TempDir(), Name: NameOptions{Method: "llm"}, Embedder: hashEmbedder(8)}},
		{"out is data", Options{Data: filepath.Dir(conv), Out: filepath.Dir(conv), Embedder: hashEmbedder(8)}},
		{"unknown stage", Options{Data: conv, Out: t.TempDir(), Until: "bake", Embedder: hashEmbedder(8)}},
		{"float64 vectors", Options{Data: conv, Out: t.TempDir(), VectorDType: vecfile.Float64, Embedder: hashEmbedder(8)}},
	} {
		if _, err := Run(context.Background(), tc.o); !errors.Is(err, ErrUsage) {
			t.Errorf("%s: err %v, want a usage error", tc.name, err)
		}
	}
}

// What a run logs about its stages fits 80 columns as kura prints it
// (level=INFO msg=skipped stage=hierarchy why="inputs and parameters
// unchanged"; "stage skipped" made it 84).
func TestStageLogFits80(t *testing.T) {
	conv, _ := writeSample(t, 40, 2)
	var b bytes.Buffer
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	opts := Options{Data: conv, Out: t.TempDir(), Embedder: hashEmbedder(8), Map: MapOptions{Skip: true},
		Logger: slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: noTime}))}
	for range 2 {
		if _, err := Run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(b.String(), "msg=skipped stage=hierarchy") {
		t.Fatalf("no stage skipped on the rerun:\n%s", b.String())
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, " stage=") && len(l) > 80 {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
}

// Data that does not exist is named as given, and is an fs.ErrNotExist.
func TestMissingData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Run(context.Background(), Options{Data: missing, Out: t.TempDir(), Embedder: hashEmbedder(8)})
	if err == nil || err.Error() != "data "+missing+": no such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err %v", err)
	}
}

// Duplicate chat ids in the input are an error naming the record.
func TestDuplicateChatIDs(t *testing.T) {
	g, _ := sample.NewGenerator(sample.Options{Conversations: 3, Topics: 1})
	var convs []conversation.Conversation
	for g.More() {
		c, _, _ := g.Next()
		convs = append(convs, c)
	}
	convs[2].ChatID = convs[0].ChatID
	path := filepath.Join(t.TempDir(), "conversations.jsonl")
	if err := conversation.WriteFile(path, convs); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Options{Data: path, Out: t.TempDir(), Embedder: hashEmbedder(8)})
	if err == nil || !strings.Contains(err.Error(), "conversation 3") || !strings.Contains(err.Error(), "repeats conversation 1") {
		t.Errorf("err %v", err)
	}
}

func TestLevels(t *testing.T) {
	p := func(s string) *string { return &s }
	cs := []conversation.Cluster{{ID: "leaf", ParentID: p("mid")}, {ID: "mid", ParentID: p("root")}, {ID: "root"}, {ID: "other"}, {ID: "leaf2", ParentID: p("root")}}
	lv, err := levels(cs)
	if err != nil || lv[0] != 2 || lv[1] != 1 || lv[2] != 0 || lv[3] != 0 || lv[4] != 1 {
		t.Errorf("levels %v, %v", lv, err)
	}
	if _, err := levels([]conversation.Cluster{{ID: "a", ParentID: p("b")}, {ID: "b", ParentID: p("a")}}); err == nil {
		t.Error("cycle accepted")
	}
	if _, err := levels([]conversation.Cluster{{ID: "a", ParentID: p("zzz")}}); err == nil {
		t.Error("unknown parent accepted")
	}
}

// The exports users have (here a Claude.ai and a ChatGPT export, told by
// content) are summarised like Kura's own files.
func TestRunOnExports(t *testing.T) {
	for _, name := range []string{"claude-export.json", "chatgpt-export.json"} {
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Data: filepath.Join("..", "ingest", "testdata", name), Out: out,
			Embedder: hashEmbedder(64), Map: MapOptions{Skip: true}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := stageOf(t, res, StageSummarise); s.Items == 0 {
			t.Errorf("%s: no conversations summarised", name)
		}
		checkDir(t, out, conversation.Summaries, conversation.Clusters, conversation.MetaClusters)
	}
}

// Rate limits and server errors are retried; the run completes, and every
// billed token is counted once: the stages' tokens equal the server's.
func TestLLMRunThroughFaults(t *testing.T) {
	conv, _ := writeSample(t, 80, 4)
	srv := mockapi.New(mockapi.Config{Seed: 11, RateLimitRate: 0.15, ErrorRate: 0.1, RetryAfter: 5 * time.Millisecond})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cl, err := llm.New(llm.Config{BaseURL: ts.URL + "/v1", Price: llm.DefaultPrice, Concurrency: 4,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetries: 30})
	if err != nil {
		t.Fatal(err)
	}
	co := cluster.DefaultSpec()
	co.Algorithm, co.K = "kmeans", 8
	res, err := Run(context.Background(), Options{Data: conv, Out: t.TempDir(), LLM: cl, Embedder: hashEmbedder(128),
		Cluster: co, Hierarchy: HierarchyOptions{MaxTopClusters: 3}, Map: MapOptions{Skip: true}})
	if err != nil {
		t.Fatal(err)
	}
	st, tot := srv.Stats(), res.Total()
	if tot.Retries == 0 || tot.Requests != st.ByEndpoint.ChatCompletions || tot.Requests-tot.Calls != st.RateLimited+st.ServerErrors {
		t.Errorf("stages %+v; server %+v", tot, st)
	}
	if tot.InputTokens != st.PromptTokens || tot.OutputTokens != st.CompletionTokens {
		t.Errorf("tokens %d/%d, server %d/%d", tot.InputTokens, tot.OutputTokens, st.PromptTokens, st.CompletionTokens)
	}
}

// settledChatCompletions returns the mock server's count of chat requests
// once two readings 100 ms apart agree (at most 5 s): requests of a
// cancelled run can still be arriving.
func settledChatCompletions(srv *mockapi.Server) int64 {
	last := srv.Stats().ByEndpoint.ChatCompletions
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		n := srv.Stats().ByEndpoint.ChatCompletions
		if n == last {
			return n
		}
		last = n
	}
	return last
}

// A stage that fails is reported as failed, not as ran.
func TestFailedStageStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conversations.jsonl")
	if err := os.WriteFile(path, []byte(`{"chat_id":"a","summary":"x"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Data: path, Out: t.TempDir(), Embedder: hashEmbedder(8)})
	if err == nil || !strings.Contains(err.Error(), "conversations.jsonl:1") {
		t.Fatalf("err %v, want one naming conversations.jsonl:1", err)
	}
	if s := stageOf(t, res, StageSummarise); s.Status != "failed" {
		t.Errorf("failed stage's status %q, want failed", s.Status)
	}
}
