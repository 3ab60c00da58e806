package conversation

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func mustTime(t testing.TB, s string) Time {
	t.Helper()
	tm, err := ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func ptr[T any](v T) *T { return &v }

func sampleConversations(t testing.TB) []Conversation {
	return []Conversation{
		{
			ChatID:    "81_alpaca-13b_0",
			CreatedAt: mustTime(t, "2025-06-12T11:04:56.965428"),
			Messages: []Message{
				{CreatedAt: mustTime(t, "2025-06-12T11:04:56.965433"), Role: "user", Content: `Hello <b>&amp;</b> "quoted" \ é ’ 😀` + "\u2028\n\t\x01"},
				{CreatedAt: mustTime(t, "2025-06-12T11:04:57Z"), Role: "assistant", Content: ""},
				{CreatedAt: mustTime(t, "2025-06-12 11:04:58.5+02:00"), Role: "system", Content: "be brief"},
				{CreatedAt: mustTime(t, "2025-06-12T11:04:59.000000"), Role: "tool", Content: "{}"},
			},
			Metadata: map[string]any{
				"model": "gpt-4", "winner": true, "question_id": json.Number("81"), "score": json.Number("0.5"),
				"big": json.Number("12345678901234567890"), "tags": []any{"a", "b"}, "floats": []any{json.Number("1.0"), json.Number("2e-7")},
				"nested": map[string]any{"z": json.Number("1"), "a": []any{}},
			},
		},
		{ChatID: "empty", CreatedAt: mustTime(t, "2025-01-01T00:00:00+00:00"), Messages: []Message{}, Metadata: map[string]any{}},
		{ChatID: "no-metadata", CreatedAt: mustTime(t, "2025-01-01T00:00:00"), Messages: nil},
	}
}

func sampleSummaries(t testing.TB) []ConversationSummary {
	return []ConversationSummary{
		{
			Summary: "The user asked for a poem.", Request: ptr("write a poem"), Topic: ptr("poetry"),
			Languages: []string{"english", "french"}, Task: ptr("creative writing"),
			ConcerningScore: ptr(1), UserFrustration: ptr(5), AssistantErrors: []string{"too long"},
			ChatID: "c1", Metadata: map[string]any{"conversation_turns": json.Number("4"), "model": "claude-v1"},
			Embedding: []float64{0.1, -0.25, 1e-7, 12345.678, 0, 1e20},
		},
		// All optional fields null.
		{Summary: "", ChatID: "c2"},
		// Empty lists stay empty lists.
		{Summary: "s", ChatID: "c3", Languages: []string{}, AssistantErrors: []string{}, Embedding: []float64{}, Metadata: map[string]any{}},
	}
}

func sampleClusters() []Cluster {
	return []Cluster{
		{ID: "64ef8fe5e766480aaf4d6ba85710eafd", Name: "Diagnose pain", Description: "d", Slug: "pain", ChatIDs: []string{"a", "b", "c"}},
		{ID: "p", Name: "Parent", Description: "", Slug: "", ChatIDs: []string{}, ParentID: ptr("64ef8fe5e766480aaf4d6ba85710eafd")},
	}
}

func sampleProjected() []ProjectedCluster {
	return []ProjectedCluster{
		{Cluster: sampleClusters()[0], XCoord: 4.050192356109619, YCoord: -0.07740556448698044, Level: 0},
		{Cluster: sampleClusters()[1], XCoord: 0, YCoord: 1e-6, Level: 2},
	}
}

func encodeAll[T Record](recs []T) []byte {
	var b []byte
	for i := range recs {
		b = any(&recs[i]).(jsonAppender).appendJSON(b)
		b = append(b, '\n')
	}
	return b
}

// roundTrip writes recs as JSONL and Parquet, reads both back, and checks
// that the records read are equal and re-encode to the same JSONL bytes.
func roundTrip[T Record](t *testing.T, name string, recs []T) []T {
	t.Helper()
	dir := t.TempDir()
	want := encodeAll(recs)
	var fromJSONL []T
	for _, ext := range []string{".jsonl", "", ".parquet"} {
		path := filepath.Join(dir, name+ext)
		if err := WriteFile(path, recs); err != nil {
			t.Fatalf("%s: WriteFile: %v", path, err)
		}
		if ext != ".parquet" {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s: file content\n%s\nwant\n%s", path, b, want)
			}
		}
		got, err := ReadFile[T](path, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: ReadFile: %v", path, err)
		}
		if len(got) != len(recs) {
			t.Fatalf("%s: read %d records, want %d", path, len(got), len(recs))
		}
		if b := encodeAll(got); !bytes.Equal(b, want) {
			t.Errorf("%s: records read back encode as\n%s\nwant\n%s", path, b, want)
		}
		if fromJSONL == nil {
			fromJSONL = got
		} else if !reflect.DeepEqual(got, fromJSONL) {
			t.Errorf("%s: records differ from those read from JSONL:\n%#v\n%#v", path, got, fromJSONL)
		}
	}
	return fromJSONL
}

func TestRoundTripConversation(t *testing.T) {
	got := roundTrip(t, "conversations", sampleConversations(t))
	if got[1].Messages == nil || len(got[1].Messages) != 0 {
		t.Errorf("empty messages read back as %#v", got[1].Messages)
	}
	if got[0].Metadata["big"] != json.Number("12345678901234567890") {
		t.Errorf("big metadata number read back as %#v", got[0].Metadata["big"])
	}
	if !got[0].Messages[1].CreatedAt.HasZone || got[0].Messages[0].CreatedAt.HasZone {
		t.Errorf("HasZone not kept: %+v", got[0].Messages[:2])
	}
}

func TestRoundTripSummary(t *testing.T) {
	got := roundTrip(t, "summaries", sampleSummaries(t))
	s := got[1]
	if s.Request != nil || s.Topic != nil || s.Task != nil || s.Languages != nil || s.AssistantErrors != nil ||
		s.ConcerningScore != nil || s.UserFrustration != nil || s.Embedding != nil {
		t.Errorf("null fields not kept: %+v", s)
	}
	e := got[2]
	if e.Languages == nil || e.AssistantErrors == nil || e.Embedding == nil {
		t.Errorf("empty lists became null: %+v", e)
	}
	if *got[0].UserFrustration != 5 || got[0].Embedding[3] != 12345.678 {
		t.Errorf("values not kept: %+v", got[0])
	}
}

func TestRoundTripCluster(t *testing.T) {
	got := roundTrip(t, "clusters", sampleClusters())
	if got[1].ChatIDs == nil || *got[1].ParentID != got[0].ID {
		t.Errorf("cluster fields not kept: %+v", got[1])
	}
	b, _ := json.Marshal(got[0])
	want := `{"id":"64ef8fe5e766480aaf4d6ba85710eafd","name":"Diagnose pain","description":"d","slug":"pain","chat_ids":["a","b","c"],"parent_id":null,"count":3}`
	if string(b) != want {
		t.Errorf("json.Marshal(cluster) = %s, want %s", b, want)
	}
}

func TestRoundTripProjectedCluster(t *testing.T) {
	got := roundTrip(t, "dimensionality", sampleProjected())
	if got[0].XCoord != 4.050192356109619 || got[1].Level != 2 {
		t.Errorf("projected fields not kept: %+v", got)
	}
	b, _ := json.Marshal(got[1])
	want := `{"id":"p","name":"Parent","description":"","slug":"","chat_ids":[],"parent_id":"64ef8fe5e766480aaf4d6ba85710eafd","x_coord":0.0,"y_coord":1e-6,"level":2,"count":0}`
	if string(b) != want {
		t.Errorf("json.Marshal(projected) = %s, want %s", b, want)
	}
}

// TestCountIgnoredOnInput checks that "count" is not trusted on input.
func TestCountIgnoredOnInput(t *testing.T) {
	var warnings []string
	r := NewReader[Cluster](bytes.NewReader([]byte(`{"id":"x","name":"n","description":"d","slug":"s","chat_ids":["a"],"parent_id":null,"count":7}`)), "c.jsonl",
		ReadOptions{OnWarning: func(e *RecordError) { warnings = append(warnings, e.Error()) }})
	c, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if b := c.appendJSON(nil); !bytes.Contains(b, []byte(`"count":1}`)) {
		t.Errorf("count not recomputed: %s", b)
	}
	want := "c.jsonl:1: field count: is 7 but chat_ids has 1 entries; count is derived and ignored"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings = %q, want [%q]", warnings, want)
	}
}

// TestMetadataKeyOrder checks that metadata keys keep their file order and
// that keys added in Go follow, sorted.
func TestMetadataKeyOrder(t *testing.T) {
	line := `{"summary":"s","request":null,"topic":null,"languages":null,"task":null,"concerning_score":null,"user_frustration":null,"assistant_errors":null,"chat_id":"c","metadata":{"z":1,"a":2,"m":3},"embedding":null}`
	var s ConversationSummary
	if err := json.Unmarshal([]byte(line), &s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.appendJSON(nil)); got != line {
		t.Errorf("re-encoded as\n%s\nwant\n%s", got, line)
	}
	delete(s.Metadata, "a")
	s.Metadata["c"] = "new"
	s.Metadata["b"] = false
	want := `"metadata":{"z":1,"m":3,"b":false,"c":"new"}`
	if got := string(s.appendJSON(nil)); !bytes.Contains([]byte(got), []byte(want)) {
		t.Errorf("after edits encoded as\n%s\nwant it to contain\n%s", got, want)
	}
}

// TestGoMetadataValues checks metadata built in Go with native types.
func TestGoMetadataValues(t *testing.T) {
	s := ConversationSummary{Summary: "s", ChatID: "c", Metadata: map[string]any{
		"i": 3, "f": 2.5, "whole": 2.0, "l": []string{"x"}, "fl": []float64{1, 0.5}, "ints": []int{1, 2}, "m": map[string]int{"k": 1},
	}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := `"metadata":{"f":2.5,"fl":[1.0,0.5],"i":3,"ints":[1,2],"l":["x"],"m":{"k":1},"whole":2.0}`
	if got := string(s.appendJSON(nil)); !bytes.Contains([]byte(got), []byte(want)) {
		t.Errorf("encoded as\n%s\nwant it to contain\n%s", got, want)
	}
}

// TestEmptyFiles checks that zero records round-trip in both formats.
func TestEmptyFiles(t *testing.T) {
	for _, name := range []string{"summaries.jsonl", "summaries.parquet"} {
		path := filepath.Join(t.TempDir(), name)
		if err := WriteFile[ConversationSummary](path, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := ReadFile[ConversationSummary](path, ReadOptions{})
		if err != nil || len(got) != 0 {
			t.Errorf("%s: read %d records, %v; want 0, nil", name, len(got), err)
		}
	}
}
