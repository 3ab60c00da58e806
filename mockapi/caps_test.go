package mockapi

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

func allocDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func schemaRequest(schema string, n int) string {
	return fmt.Sprintf(`{"model":"m","n":%d,"messages":[{"role":"user","content":"summarise the conversation"}],`+
		`"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":%s}}}`, n, schema)
}

// TestGeneratorCaps checks that schemas asking for huge output get a clear
// 400 at once, and that large but allowed strings are made in linear time
// and memory. minLength 1.28M used to take 113 s and 5.5 GB (a string rebuilt
// and its runes re-counted per word).
func TestGeneratorCaps(t *testing.T) {
	s := New(Config{})
	tests := []struct {
		name     string
		schema   string
		n        int
		wantErr  string // "" for a 200
		maxAlloc uint64
	}{
		{name: "minLength 1.28M", schema: `{"type":"object","properties":{"t":{"type":"string","minLength":1280000}},"required":["t"]}`, n: 1,
			maxAlloc: 48 << 20},
		{name: "minLength 10^9", schema: `{"type":"object","properties":{"t":{"type":"string","minLength":1000000000}},"required":["t"]}`, n: 1,
			wantErr: "minLength 1000000000", maxAlloc: 1 << 20},
		{name: "minItems 10^9", schema: `{"type":"array","minItems":1000000000,"items":{"type":"integer"}}`, n: 1,
			wantErr: "minItems 1000000000", maxAlloc: 1 << 20},
		{name: "nested minItems", schema: `{"type":"array","minItems":100,"items":{"type":"array","minItems":100,"items":{"type":"array","minItems":100,"items":{"type":"array","minItems":100,"items":{"type":"string","minLength":10}}}}}`, n: 1,
			wantErr: "more than 4194304 bytes", maxAlloc: 64 << 20},
		{name: "unique items", schema: `{"type":"array","minItems":20000,"uniqueItems":true,"items":{"type":"integer","minimum":0,"maximum":3}}`, n: 1,
			maxAlloc: 64 << 20},
		{name: "n choices share the cap", schema: `{"type":"string","minLength":100000}`, n: 128,
			wantErr: "minLength 100000", maxAlloc: 64 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := schemaRequest(tc.schema, tc.n)
			var code int
			var out []byte
			alloc := allocDuring(func() {
				w := call(s, "POST", "/v1/chat/completions", body)
				code, out = w.Code, w.Body.Bytes()
			})
			if alloc > tc.maxAlloc {
				t.Errorf("allocated %d bytes, want <= %d", alloc, tc.maxAlloc)
			}
			if tc.wantErr == "" {
				if code != 200 {
					t.Fatalf("status %d: %.300s", code, out)
				}
				return
			}
			var e errorBody
			if code != 400 || json.Unmarshal(out, &e) != nil || !strings.Contains(e.Error.Message, tc.wantErr) {
				t.Fatalf("status %d, body %.300s; want 400 mentioning %q", code, out, tc.wantErr)
			}
		})
	}
	// The 1.28M string has the asked length.
	r := chat(t, s, schemaRequest(`{"type":"string","minLength":1280000}`, 1))
	var str string
	if err := json.Unmarshal([]byte(*r.Choices[0].Message.Content), &str); err != nil || utf8.RuneCountInString(str) < 1280000 {
		t.Errorf("string of %d runes (err %v), want >= 1280000", utf8.RuneCountInString(str), err)
	}
}

// TestEmbeddingsOutputCap checks that inputs x dimensions is capped with a
// clear 400: 2,048 inputs of 65,536 dimensions would be 1.3 GB of JSON.
func TestEmbeddingsOutputCap(t *testing.T) {
	s := New(Config{})
	inputs := `["a"` + strings.Repeat(`,"a"`, 2047) + `]`
	w := call(s, "POST", "/v1/embeddings", `{"model":"nomic-embed-text","input":`+inputs+`,"dimensions":65536}`)
	e := checkError(t, w, 400, "invalid_request_error")
	if !strings.Contains(e.Error.Message, "at most 6291456 values") || e.Error.Param == nil || *e.Error.Param != "dimensions" {
		t.Errorf("error %+v, want the values cap on dimensions", e.Error)
	}
	// One input of 65,536 dimensions is still served.
	if w := call(s, "POST", "/v1/embeddings", `{"model":"nomic-embed-text","input":"a","dimensions":65536}`); w.Code != 200 {
		t.Errorf("one 65536-dimensional input: status %d", w.Code)
	}
}
