// Package server is `kura serve`: a local web page that explores a Kura
// checkpoint directory (the cluster tree, the 2-D map, cluster details,
// conversations, search) and charts the load-test results found in it, and
// the JSON API under /api/ that the page uses. The page and its scripts are
// embedded in the binary; nothing is loaded from the network.
//
// Only files directly inside the served directory are read, through an
// os.Root, so neither "..", encoded or not, nor symbolic links can reach a
// file outside it.
package server

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/kura-go/kura/report"
)

//go:embed assets/index.html assets/app.js assets/app.css
var assets embed.FS

// Server serves one directory.
type Server struct {
	dir  string
	root *os.Root
	log  *slog.Logger
	mux  *http.ServeMux

	once  sync.Once
	st    *store
	stErr error
}

// New returns a server of the Kura checkpoint directory dir (which may also,
// or only, hold load_test_results_*.json). The files are read on the first
// request and kept in memory.
func New(dir string, log *slog.Logger) (*Server, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errors.New(dir + " is not a directory")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{dir: dir, root: root, log: log, mux: http.NewServeMux()}
	page, _ := fs.Sub(assets, "assets")
	charts, _ := fs.Sub(report.Assets(), "assets")
	s.mux.Handle("GET /assets/charts/", http.StripPrefix("/assets/charts/", http.FileServerFS(charts)))
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(page)))
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /api/overview", s.apiOverview)
	s.mux.HandleFunc("GET /api/tree", s.apiTree)
	s.mux.HandleFunc("GET /api/points", s.apiPoints)
	s.mux.HandleFunc("GET /api/cluster", s.apiCluster)
	s.mux.HandleFunc("GET /api/conversation", s.apiConversation)
	s.mux.HandleFunc("GET /api/search", s.apiSearch)
	s.mux.HandleFunc("GET /api/loadtest", s.apiLoadtest)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
	})
	return s, nil
}

// Close releases the directory.
func (s *Server) Close() error { return s.root.Close() }

// ServeHTTP serves the page, its assets and the API. Requests whose Host is
// not a loopback name are refused when the server listens on loopback only
// (see LoopbackOnly), against DNS rebinding.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// LoopbackOnly wraps h so that it answers only requests addressed to a
// loopback host name (localhost, 127.0.0.0/8, ::1): a web page elsewhere
// cannot use DNS rebinding to read the served directory.
func LoopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		host = strings.Trim(host, "[]")
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "kura serve answers only requests to localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) data() (*store, error) {
	s.once.Do(func() {
		s.st, s.stErr = load(s.root)
		if s.stErr == nil {
			s.log.Info("loaded", "dir", s.dir, "clusters", len(s.st.Nodes), "conversations", s.st.Total, "map", s.st.MapMode)
		}
	})
	return s.st, s.stErr
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		slog.Debug("writing response", "err", err)
	}
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// withStore runs f with the loaded directory, or answers with the error.
func (s *Server) withStore(w http.ResponseWriter, f func(st *store)) {
	st, err := s.data()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading the directory: "+err.Error())
		return
	}
	f(st)
}

func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		results, _ := s.resultFiles()
		leaves := 0
		for i := range st.Nodes {
			if len(st.Nodes[i].Children) == 0 {
				leaves++
			}
		}
		writeJSON(w, map[string]any{
			"dir":           filepath.Base(filepath.Clean(s.dir)),
			"files":         st.Files,
			"clusters":      len(st.Nodes),
			"leaf_clusters": leaves,
			"roots":         len(st.Roots),
			"conversations": st.Total,
			"map_mode":      st.MapMode,
			"map_note":      st.MapNote,
			"problems":      st.Problems,
			"results_files": results,
		})
	})
}

// treeNode is a cluster as the tree and the map need it.
type treeNode struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Parent   int      `json:"parent"` // index, -1 for a root
	Children []int    `json:"children"`
	Count    int      `json:"count"`
	Share    float64  `json:"share"` // of all conversations
	Depth    int      `json:"depth"`
	Root     int      `json:"root"`
	X        *float64 `json:"x"`
	Y        *float64 `json:"y"`
}

func (s *Server) apiTree(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		nodes := make([]treeNode, len(st.Nodes))
		for i := range st.Nodes {
			n := &st.Nodes[i]
			t := treeNode{ID: n.ID, Name: n.Name, Parent: n.Parent, Children: n.Children, Count: len(n.ChatIDs), Depth: n.Depth, Root: n.Root}
			if t.Children == nil {
				t.Children = []int{}
			}
			if st.Total > 0 {
				t.Share = float64(t.Count) / float64(st.Total)
			}
			if n.HasXY {
				x, y := n.X, n.Y
				t.X, t.Y = &x, &y
			}
			nodes[i] = t
		}
		writeJSON(w, map[string]any{"nodes": nodes, "roots": st.Roots, "total": st.Total})
	})
}

// apiPoints returns the map: parallel arrays of positions, leaf cluster
// indices, conversation indices (as in search matches; -1 for a cluster
// point) and chat ids (or cluster ids in clusters-only mode).
func (s *Server) apiPoints(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		xs, ys := []float32{}, []float32{}
		leaf, conv := []int{}, []int{}
		ids := []string{}
		if st.MapMode == MapClusters {
			for i := range st.Nodes {
				n := &st.Nodes[i]
				if len(n.Children) == 0 && n.HasXY {
					xs, ys = append(xs, float32(n.X)), append(ys, float32(n.Y))
					leaf, conv, ids = append(leaf, i), append(conv, -1), append(ids, n.ID)
				}
			}
		} else {
			for i := range st.Convs {
				c := &st.Convs[i]
				if c.HasXY {
					xs, ys = append(xs, float32(c.X)), append(ys, float32(c.Y))
					leaf, conv, ids = append(leaf, c.Leaf), append(conv, i), append(ids, c.ID)
				}
			}
		}
		writeJSON(w, map[string]any{"mode": st.MapMode, "note": st.MapNote, "x": xs, "y": ys, "leaf": leaf, "conv": conv, "ids": ids})
	})
}

// count is one value of a facet and how often it occurs.
type count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// counter counts values and returns the most frequent first.
type counter map[string]int

func (c counter) top(n int) (out []count, others int) {
	for v, k := range c {
		out = append(out, count{v, k})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > n {
		for _, c := range out[n:] {
			others += c.Count
		}
		out = out[:n]
	}
	return out, others
}

// facet is a summary field or metadata key with its value counts.
type facet struct {
	Name     string  `json:"name"`
	Values   []count `json:"values"`
	Others   int     `json:"others"`   // occurrences of values not listed
	Distinct int     `json:"distinct"` // distinct values
	Missing  int     `json:"missing"`  // members without the field
}

// memberRow is a conversation listed under a cluster or in search results.
type memberRow struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Index   int    `json:"index"` // in the conversation list, -1 when unknown
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

const (
	facetValues    = 12
	maxMembersPage = 200
)

func (s *Server) apiCluster(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		i, ok := st.byID[r.URL.Query().Get("id")]
		if !ok {
			writeError(w, http.StatusNotFound, "no cluster with id "+strconv.Quote(r.URL.Query().Get("id")))
			return
		}
		n := &st.Nodes[i]
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		offset = max(0, min(offset, len(n.ChatIDs)))

		langs, concern, frustration, topics, errs := counter{}, counter{}, counter{}, counter{}, counter{}
		meta := map[string]counter{}
		metaOrder := []string{}
		withSummary := 0
		for _, id := range n.ChatIDs {
			ci, ok := st.convIndex[id]
			if !ok {
				continue
			}
			c := &st.Convs[ci]
			var md map[string]any
			if sm := c.Summary; sm != nil {
				withSummary++
				for _, l := range sm.Languages {
					langs[l]++
				}
				if sm.ConcerningScore != nil {
					concern[strconv.Itoa(*sm.ConcerningScore)]++
				}
				if sm.UserFrustration != nil {
					frustration[strconv.Itoa(*sm.UserFrustration)]++
				}
				if sm.Topic != nil {
					topics[*sm.Topic]++
				}
				if len(sm.AssistantErrors) > 0 {
					errs["with assistant errors"]++
				} else {
					errs["none"]++
				}
				md = sm.Metadata
			}
			if len(md) == 0 && c.Conv != nil {
				md = c.Conv.Metadata
			}
			for k, v := range md {
				ctr, ok := meta[k]
				if !ok {
					ctr = counter{}
					meta[k] = ctr
					metaOrder = append(metaOrder, k)
				}
				if sv, ok := scalarString(v); ok {
					ctr[sv]++
				} else if list, ok := v.([]any); ok {
					for _, e := range list {
						if sv, ok := scalarString(e); ok {
							ctr[sv]++
						}
					}
				} else {
					ctr["(object)"]++
				}
			}
		}
		mk := func(name string, c counter, missing int) facet {
			vals, others := c.top(facetValues)
			return facet{Name: name, Values: vals, Others: others, Distinct: len(c), Missing: missing}
		}
		var facets []facet
		if withSummary > 0 {
			facets = append(facets, mk("languages", langs, 0), mk("concerning_score", concern, withSummary-sum(concern)),
				mk("user_frustration", frustration, withSummary-sum(frustration)), mk("assistant_errors", errs, 0))
			if len(topics) > 0 {
				facets = append(facets, mk("topic", topics, withSummary-sum(topics)))
			}
		}
		sort.Strings(metaOrder)
		var metaFacets []facet
		for _, k := range metaOrder {
			metaFacets = append(metaFacets, mk(k, meta[k], 0))
		}
		members := []memberRow{}
		for _, id := range n.ChatIDs[offset:min(len(n.ChatIDs), offset+maxMembersPage)] {
			members = append(members, st.member(id))
		}
		path := []map[string]string{}
		for p := n.Parent; p >= 0; p = st.Nodes[p].Parent {
			path = append([]map[string]string{{"id": st.Nodes[p].ID, "name": st.Nodes[p].Name}}, path...)
		}
		var children []map[string]any
		for _, c := range n.Children {
			children = append(children, map[string]any{"id": st.Nodes[c].ID, "name": st.Nodes[c].Name, "count": len(st.Nodes[c].ChatIDs)})
		}
		share := 0.0
		if st.Total > 0 {
			share = float64(len(n.ChatIDs)) / float64(st.Total)
		}
		writeJSON(w, map[string]any{
			"id": n.ID, "index": i, "name": n.Name, "description": n.Description, "slug": n.Slug,
			"count": len(n.ChatIDs), "share": share, "path": path, "children": children,
			"facets": facets, "metadata": metaFacets, "with_summary": withSummary,
			"members": members, "offset": offset, "page": maxMembersPage,
		})
	})
}

func sum(c counter) int {
	t := 0
	for _, k := range c {
		t += k
	}
	return t
}

func (st *store) member(id string) memberRow {
	row := memberRow{ID: id, Index: -1}
	if ci, ok := st.convIndex[id]; ok {
		row.Index = ci
		c := &st.Convs[ci]
		switch {
		case c.Summary != nil:
			row.Summary = clip(c.Summary.Summary, 240)
		case c.Conv != nil && len(c.Conv.Messages) > 0:
			row.Summary = clip(c.Conv.Messages[0].Content, 240)
		}
	}
	return row
}

func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		id := r.URL.Query().Get("id")
		ci, ok := st.convIndex[id]
		if !ok {
			writeError(w, http.StatusNotFound, "no conversation with chat_id "+strconv.Quote(id))
			return
		}
		c := &st.Convs[ci]
		path := []map[string]string{}
		for p := c.Leaf; p >= 0; p = st.Nodes[p].Parent {
			path = append([]map[string]string{{"id": st.Nodes[p].ID, "name": st.Nodes[p].Name}}, path...)
		}
		out := map[string]any{"id": c.ID, "index": ci, "path": path, "summary": c.Summary, "conversation": c.Conv}
		if c.Conv == nil {
			out["note"] = "The directory has no conversations file with this chat id: only its summary and clusters are known."
		}
		writeJSON(w, out)
	})
}

const maxSearchHits = 100

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	s.withStore(w, func(st *store) {
		q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
		if q == "" {
			writeError(w, http.StatusBadRequest, "empty search")
			return
		}
		clusters := []map[string]any{}
		for i := range st.Nodes {
			n := &st.Nodes[i]
			if strings.Contains(strings.ToLower(n.Name), q) || strings.Contains(strings.ToLower(n.Description), q) ||
				strings.Contains(strings.ToLower(n.Slug), q) || strings.ToLower(n.ID) == q {
				clusters = append(clusters, map[string]any{"id": n.ID, "name": n.Name, "count": len(n.ChatIDs), "index": i})
			}
		}
		convs := []memberRow{}
		matches := []int{} // every matching conversation, for the map
		for i := range st.Convs {
			if convMatches(&st.Convs[i], q) {
				matches = append(matches, i)
				if len(convs) < maxSearchHits {
					convs = append(convs, st.member(st.Convs[i].ID))
				}
			}
		}
		writeJSON(w, map[string]any{"q": q, "clusters": clusters, "conversations": convs, "matches": matches, "total": len(matches)})
	})
}

func convMatches(c *conv, q string) bool {
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	if has(c.ID) {
		return true
	}
	if sm := c.Summary; sm != nil {
		if has(sm.Summary) || (sm.Request != nil && has(*sm.Request)) || (sm.Task != nil && has(*sm.Task)) || (sm.Topic != nil && has(*sm.Topic)) {
			return true
		}
	}
	if c.Conv != nil {
		for _, m := range c.Conv.Messages {
			if has(m.Content) {
				return true
			}
		}
	}
	return false
}

// resultsName matches the load-test results files the dashboard reads.
var resultsName = regexp.MustCompile(`^load_test_results_[A-Za-z0-9_.-]*\.json$`)

// maxResultsBytes caps a results file read by the dashboard.
const maxResultsBytes = 64 << 20

func (s *Server) resultFiles() ([]string, error) {
	names, err := listDir(s.root)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, n := range names {
		if resultsName.MatchString(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// apiLoadtest returns the chart model of every results file in the
// directory (oldest first, by name) and the files that could not be read.
// The files are read anew on each request, so new runs show up on reload.
func (s *Server) apiLoadtest(w http.ResponseWriter, r *http.Request) {
	names, err := s.resultFiles()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "listing the directory: "+err.Error())
		return
	}
	var inputs []report.Input
	problems := []fileProblems{}
	for _, n := range names {
		raw, err := readSmallFile(s.root, n, maxResultsBytes)
		if err != nil {
			problems = append(problems, fileProblems{File: n, Problems: []string{err.Error()}, Count: 1})
			continue
		}
		res, err := report.Decode(n, raw)
		if err != nil {
			problems = append(problems, fileProblems{File: n, Problems: []string{err.Error()}, Count: 1})
			continue
		}
		inputs = append(inputs, report.Input{Path: n, Results: res})
	}
	m := report.Runs(inputs)
	if m.Runs == nil {
		m.Runs = []*report.Run{}
	}
	writeJSON(w, map[string]any{"runs": m.Runs, "problems": problems})
}
