package sample

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kura-go/kura/conversation"
)

func TestOptionsErrors(t *testing.T) {
	for _, c := range []struct {
		opts    Options
		wantErr string
	}{
		{Options{Conversations: 0}, "at least 1, not 0"},
		{Options{Conversations: -5}, "at least 1, not -5"},
		{Options{Conversations: 10, Topics: NumTopics() + 1}, "between 1 and"},
		{Options{Conversations: 10, Topics: -1}, "between 1 and"},
		{Options{Conversations: 10, Topics: NumTopics()}, ""},
		{Options{Conversations: 1, Topics: 1}, ""},
	} {
		_, err := NewGenerator(c.opts)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.opts, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.wantErr)
		}
		if c.wantErr != "" {
			if err := WriteDir(context.Background(), t.TempDir(), c.opts); err == nil {
				t.Errorf("WriteDir %+v succeeded", c.opts)
			}
		}
	}
}

// TestVocabulary checks the invariants the uniqueness argument rests on.
func TestVocabulary(t *testing.T) {
	if NumTopics() < 24 || NumTopics() > 256 {
		t.Fatalf("%d topics, want 24..256", NumTopics())
	}
	subjects := map[string]string{}
	slugs := map[string]bool{}
	for i, c := range topicsCompiled {
		d := c.def
		if slugs[d.slug] {
			t.Errorf("duplicate slug %q", d.slug)
		}
		slugs[d.slug] = true
		if c.capacity < MinCapacity {
			t.Errorf("%s: capacity %d < %d", d.slug, c.capacity, MinCapacity)
		}
		for _, s := range c.subjects {
			if other, dup := subjects[s]; dup {
				t.Errorf("subject %q in both %s and %s", s, other, d.slug)
			}
			subjects[s] = d.slug
		}
		for name, l := range map[string][]string{"personas": d.personas, "actions": d.actions, "details": d.details, "terms": d.terms, "tips": d.tips, "labels": d.labels, "subjects": c.subjects} {
			seen := map[string]bool{}
			for _, v := range l {
				if seen[v] || v == "" || strings.ContainsAny(v, "{}") {
					t.Errorf("%s: bad or duplicate %s entry %q", d.slug, name, v)
				}
				seen[v] = true
			}
		}
		if len(d.terms) < 5 || len(d.tips) < 2 || len(d.actions) < 2 {
			t.Errorf("%s: too few terms, tips or actions", d.slug)
		}
		for _, f := range d.facts {
			if strings.Count(f.third, "%d") != 1 || strings.Count(f.first, "%d") != 1 || f.n < 1 {
				t.Errorf("%s: bad fact %+v", d.slug, f)
			}
		}
		_ = i
	}
	// Every summary template carries every digit slot exactly once.
	for _, tmpl := range summaryTemplates {
		for _, slot := range []string{"persona", "action", "subject", "detail", "fact"} {
			if n := strings.Count(strings.ToLower(tmpl), "{"+slot+"}"); n != 1 {
				t.Errorf("summary template %q has {%s} %d times", tmpl, slot, n)
			}
		}
	}
}

// TestRecords checks every field of a few thousand generated records.
func TestRecords(t *testing.T) {
	const n = 5000
	g, err := NewGenerator(Options{Conversations: n, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, NumTopics())
	chatIDs := map[string]bool{}
	for g.More() {
		c, s, topic := g.Next()
		counts[topic]++
		if chatIDs[c.ChatID] || len(c.ChatID) != 36 || c.ChatID[14] != '4' {
			t.Fatalf("bad or duplicate chat id %q", c.ChatID)
		}
		chatIDs[c.ChatID] = true
		if s.ChatID != c.ChatID {
			t.Fatalf("summary chat id %q != %q", s.ChatID, c.ChatID)
		}
		if len(c.Messages) < 2 || len(c.Messages) > 6 {
			t.Fatalf("%s: %d messages", c.ChatID, len(c.Messages))
		}
		prev := c.CreatedAt.Time
		for k, m := range c.Messages {
			want := "user"
			if k%2 == 1 {
				want = "assistant"
			}
			if m.Role != want || m.Content == "" || strings.ContainsAny(m.Content, "{}%") {
				t.Fatalf("%s message %d: role %q content %q", c.ChatID, k, m.Role, m.Content)
			}
			if !m.CreatedAt.After(prev) {
				t.Fatalf("%s message %d: time %v not after %v", c.ChatID, k, m.CreatedAt, prev)
			}
			prev = m.CreatedAt.Time
		}
		slug := topicDefs[topic].slug
		for _, md := range []map[string]any{c.Metadata, s.Metadata} {
			if md["topic"] != slug || md["conversation_turns"] != len(c.Messages) || !slices.Contains(models, md["model"].(string)) {
				t.Fatalf("%s: metadata %v", c.ChatID, md)
			}
		}
		for name, v := range map[string]*string{"request": s.Request, "topic": s.Topic, "task": s.Task} {
			if v == nil || *v == "" || strings.ContainsAny(*v, "{}%") {
				t.Fatalf("%s: %s = %v", c.ChatID, name, v)
			}
		}
		if !strings.HasPrefix(*s.Request, "The user's overall request for the assistant is to ") || !strings.HasPrefix(*s.Task, "The task is to ") {
			t.Fatalf("%s: request %q task %q", c.ChatID, *s.Request, *s.Task)
		}
		if strings.ContainsAny(s.Summary, "{}%") || !unicode.IsUpper([]rune(s.Summary)[0]) || !strings.HasSuffix(s.Summary, ".") {
			t.Fatalf("%s: summary %q", c.ChatID, s.Summary)
		}
		if len(s.Languages) == 0 || s.Languages[0] != "english" {
			t.Fatalf("%s: languages %v", c.ChatID, s.Languages)
		}
		if cs := *s.ConcerningScore; cs < 1 || cs > 5 {
			t.Fatalf("concerning_score %d", cs)
		}
		if uf := *s.UserFrustration; uf < 1 || uf > 5 {
			t.Fatalf("user_frustration %d", uf)
		}
		if s.AssistantErrors == nil || s.Embedding != nil {
			t.Fatalf("%s: assistant_errors %v embedding %v", c.ChatID, s.AssistantErrors, s.Embedding)
		}
		if len(s.AssistantErrors) > 0 && *s.UserFrustration < 2 {
			t.Fatalf("%s: errors without frustration", c.ChatID)
		}
	}
	// Fair shares: every topic within one of n/K.
	lo, hi := slices.Min(counts), slices.Max(counts)
	if hi-lo > 1 || lo != n/NumTopics() {
		t.Errorf("topic counts %v", counts)
	}
}

func TestDeterminism(t *testing.T) {
	collect := func(opts Options, n int) []string {
		g, err := NewGenerator(opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for range n {
			c, s, topic := g.Next()
			b1, _ := json.Marshal(c)
			b2, _ := json.Marshal(s)
			out = append(out, string(b1)+string(b2)+topicDefs[topic].slug)
		}
		return out
	}
	a := collect(Options{Conversations: 300, Topics: 12, Seed: 7}, 300)
	b := collect(Options{Conversations: 300, Topics: 12, Seed: 7}, 300)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gives different corpora")
	}
	// A shorter corpus is a prefix of a longer one.
	if c := collect(Options{Conversations: 50, Topics: 12, Seed: 7}, 50); !reflect.DeepEqual(c, a[:50]) {
		t.Error("the first 50 conversations depend on the corpus size")
	}
	d := collect(Options{Conversations: 300, Topics: 12, Seed: 8}, 300)
	same := 0
	for i := range a {
		if a[i] == d[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 share %d records", same)
	}
	// NextSummary gives Next's summaries.
	gs, _ := NewGenerator(Options{Conversations: 300, Topics: 12, Seed: 7})
	for i := range 40 {
		s, topic := gs.NextSummary()
		b2, _ := json.Marshal(s)
		if !strings.HasPrefix(a[i][strings.Index(a[i], `}{"summary"`)+1:], string(b2)) || !strings.HasSuffix(a[i], topicDefs[topic].slug) {
			t.Fatalf("NextSummary %d differs from Next", i)
		}
	}
	// At matches Next.
	g, _ := NewGenerator(Options{Conversations: 300, Topics: 12, Seed: 7})
	for _, i := range []int{0, 11, 12, 13, 299} {
		c, s, topic := g.At(i)
		b1, _ := json.Marshal(c)
		b2, _ := json.Marshal(s)
		if got := string(b1) + string(b2) + topicDefs[topic].slug; got != a[i] {
			t.Errorf("At(%d) differs from the %d-th Next", i, i)
		}
		if _, so, _ := g.build(i, topic, false); !reflect.DeepEqual(so, s) {
			t.Errorf("summary-only build of %d differs from the full one", i)
		}
		if g.TopicOf(i) != topic {
			t.Errorf("TopicOf(%d) = %d, want %d", i, g.TopicOf(i), topic)
		}
	}
}

// TestUniqueSummaries generates a corpus and checks that no two summaries
// are equal, by 128-bit hash (a collision would be reported, never hidden:
// it fails the test). The full run covers 1,000,000 conversations with the
// default topics and with a single topic (the worst case: every summary
// from one topic's vocabulary); since a corpus of N conversations is a
// prefix of a larger one with the same seed and topics, this covers every
// N up to 1,000,000 for those options.
func TestUniqueSummaries(t *testing.T) {
	cases := []struct {
		n, k int
		seed int64
	}{{100_000, 0, 42}, {30_000, 1, 3}}
	if !testing.Short() {
		cases = []struct {
			n, k int
			seed int64
		}{{1_000_000, 0, 42}, {1_000_000, 1, 42}}
	}
	for _, c := range cases {
		g, err := NewGenerator(Options{Conversations: c.n, Topics: c.k, Seed: c.seed})
		if err != nil {
			t.Fatal(err)
		}
		seen := make(map[[16]byte]int, c.n)
		h := fnv.New128a()
		for i := range c.n {
			_, s, _ := g.build(i, g.TopicOf(i), false) // the summary only, for speed
			h.Reset()
			h.Write([]byte(s.Summary))
			var key [16]byte
			h.Sum(key[:0])
			if j, dup := seen[key]; dup {
				_, sj, _ := g.At(j)
				t.Fatalf("n=%d k=%d: summaries %d and %d are identical: %q / %q", c.n, c.k, j, i, sj.Summary, s.Summary)
			}
			seen[key] = i
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	const n, k = 2500, 9
	var progress []int
	opts := Options{Conversations: n, Topics: k, Seed: 5, Progress: func(d int) { progress = append(progress, d) }}
	if err := WriteDir(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != n || !slices.IsSorted(progress) {
		t.Errorf("progress calls %v", progress)
	}
	convs := readLines[conversation.Conversation](t, filepath.Join(dir, ConversationsFile))
	sums := readLines[conversation.ConversationSummary](t, filepath.Join(dir, SummariesFile))
	clusters := readLines[conversation.Cluster](t, filepath.Join(dir, ClustersFile))
	if len(convs) != n || len(sums) != n || len(clusters) != k {
		t.Fatalf("%d conversations, %d summaries, %d clusters", len(convs), len(sums), len(clusters))
	}
	g, _ := NewGenerator(opts)
	topicOf := map[string]string{}
	for i := range convs {
		c, s, topic := g.Next()
		if convs[i].ChatID != c.ChatID || sums[i].Summary != s.Summary || sums[i].ChatID != c.ChatID {
			t.Fatalf("record %d differs from the generator", i)
		}
		if len(convs[i].Messages) != len(c.Messages) || convs[i].Messages[0].Content != c.Messages[0].Content ||
			!convs[i].CreatedAt.Equal(c.CreatedAt.Time) {
			t.Fatalf("conversation %d does not round-trip", i)
		}
		topicOf[c.ChatID] = topicDefs[topic].slug
	}
	seen := map[string]bool{}
	ids := map[string]bool{}
	for ti, cl := range clusters {
		if len(cl.ID) != 32 || ids[cl.ID] || cl.ID != g.ClusterID(ti) || cl.ParentID != nil {
			t.Errorf("cluster %d: id %q parent %v", ti, cl.ID, cl.ParentID)
		}
		ids[cl.ID] = true
		if cl.Slug != topicDefs[ti].slug || cl.Name != topicDefs[ti].name || cl.Description == "" {
			t.Errorf("cluster %d: %q %q", ti, cl.Slug, cl.Name)
		}
		if len(cl.ChatIDs) < n/k || len(cl.ChatIDs) > n/k+1 {
			t.Errorf("cluster %s has %d conversations", cl.Slug, len(cl.ChatIDs))
		}
		for _, id := range cl.ChatIDs {
			if seen[id] || topicOf[id] != cl.Slug {
				t.Fatalf("chat %s in cluster %s: seen=%v true topic %s", id, cl.Slug, seen[id], topicOf[id])
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		t.Errorf("clusters hold %d of %d conversations", len(seen), n)
	}
	// Same options, same bytes.
	dir2 := filepath.Join(t.TempDir(), "again")
	opts.Progress = nil
	if err := WriteDir(context.Background(), dir2, opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ConversationsFile, SummariesFile, ClustersFile} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dir2, f))
		if string(a) != string(b) {
			t.Errorf("%s differs between two runs", f)
		}
	}
}

func TestWriteDirCancel(t *testing.T) {
	// A previous corpus in the directory is neither truncated while the new
	// one is written nor removed when writing stops: the new files replace
	// it only once complete.
	dir := t.TempDir()
	files := []string{ConversationsFile, SummariesFile, ClustersFile}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("previous "+f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkPrevious := func(when string) {
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != "previous "+f+"\n" {
				t.Errorf("%s: %s has %d bytes (%v), want the previous content", when, f, len(b), err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := WriteDir(ctx, dir, Options{Conversations: 50_000, Seed: 1, Progress: func(int) {
		calls++
		if calls == 2 {
			checkPrevious("while writing")
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "nothing written") {
		t.Errorf("error %q does not name the directory and say nothing was written", err)
	}
	checkPrevious("after cancellation")
	if ents, _ := os.ReadDir(dir); len(ents) != len(files) {
		t.Errorf("directory holds %d entries after cancellation, want %d (temporary files left?)", len(ents), len(files))
	}

	// In an empty directory, cancellation leaves no file at all.
	dir = t.TempDir()
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := WriteDir(ctx, dir, Options{Conversations: 5000, Seed: 1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("directory holds %d entries after cancellation, want none", len(ents))
	}
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLexicalSignal checks that summaries carry topic signal a bag-of-words
// model can find, while sharing generic vocabulary across topics: the
// nearest neighbour (TF-IDF cosine) of most summaries is in the same topic,
// yet most of the words of a summary also occur in other topics.
func TestLexicalSignal(t *testing.T) {
	const n = 2000
	g, _ := NewGenerator(Options{Conversations: n, Seed: 42})
	type entry struct {
		id int
		w  float64
	}
	ids := map[string]int{}
	var df []int
	var wordTopics []map[int]bool
	tfs := make([]map[int]float64, n)
	topics := make([]int, n)
	for i := range n {
		_, s, topic := g.Next()
		topics[i] = topic
		tf := map[int]float64{}
		for _, w := range strings.FieldsFunc(strings.ToLower(s.Summary), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			id, ok := ids[w]
			if !ok {
				id = len(ids)
				ids[w] = id
				df = append(df, 0)
				wordTopics = append(wordTopics, map[int]bool{})
			}
			tf[id]++
			wordTopics[id][topic] = true
		}
		for id := range tf {
			df[id]++
		}
		tfs[i] = tf
	}
	shared, total := 0, 0
	vecs := make([][]entry, n)
	for i, tf := range tfs {
		var norm float64
		v := make([]entry, 0, len(tf))
		for id, c := range tf {
			if len(wordTopics[id]) >= NumTopics()/2 {
				shared += int(c)
			}
			total += int(c)
			w := c * math.Log(float64(n)/float64(df[id]))
			v = append(v, entry{id, w})
			norm += w * w
		}
		norm = math.Sqrt(norm)
		for k := range v {
			v[k].w /= norm
		}
		slices.SortFunc(v, func(a, b entry) int { return a.id - b.id })
		vecs[i] = v
	}
	dot := func(a, b []entry) float64 {
		var s float64
		for len(a) > 0 && len(b) > 0 {
			switch {
			case a[0].id < b[0].id:
				a = a[1:]
			case a[0].id > b[0].id:
				b = b[1:]
			default:
				s += a[0].w * b[0].w
				a, b = a[1:], b[1:]
			}
		}
		return s
	}
	correct := 0
	for i := range vecs {
		best, bestJ := -1.0, -1
		for j := range vecs {
			if i != j {
				if d := dot(vecs[i], vecs[j]); d > best {
					best, bestJ = d, j
				}
			}
		}
		if topics[bestJ] == topics[i] {
			correct++
		}
	}
	acc := float64(correct) / n
	sharedFrac := float64(shared) / float64(total)
	t.Logf("nearest neighbour in the same topic: %.3f; words shared by at least half the topics: %.3f", acc, sharedFrac)
	if acc < 0.9 {
		t.Errorf("nearest-neighbour topic accuracy %.3f < 0.9: too little topic signal", acc)
	}
	if sharedFrac < 0.4 {
		t.Errorf("only %.3f of summary words are shared by half the topics: topics are trivially separable", sharedFrac)
	}
}
