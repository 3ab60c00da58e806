package openai

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kura-go/kura/embed/mock"
)

// benchBody is an embeddings response of 50 vectors of 1,536 JSON floats,
// as text-embedding-3-small sends them (about 1 MB).
func benchBody() []byte {
	r := &fakeResponse{Object: "list", Model: "text-embedding-3-small",
		Usage: map[string]int64{"prompt_tokens": 500, "total_tokens": 500}}
	for i := range 50 {
		r.Data = append(r.Data, fakeItem{Index: i, Embedding: json.RawMessage(floatsJSON(mock.Vector(string(rune('a'+i%26))+"text", 1536, 0)))})
	}
	return appendResponse(nil, r)
}

// BenchmarkParse reads one response of 50 × 1,536 floats: with the
// client's reader (package jsonscan's scanner, floats parsed straight into
// float32), and with encoding/json decoding the same body into structs of
// []float32, which is what the hand-written scanner has to beat to be
// kept. MB/s is of response body.
func BenchmarkParse(b *testing.B) {
	body := benchBody()
	b.Run("jsonscan", func(b *testing.B) {
		c, err := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, _, err := c.parse(body, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonscan_base64", func(b *testing.B) {
		// The same vectors as base64, which the client asks for.
		var items []string
		for i := range 50 {
			items = append(items, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":"%s"}`, i, b64Vector(mock.Vector(string(rune('a'+i%26))+"text", 1536, 0))))
		}
		body := []byte(`{"object":"list","data":[` + strings.Join(items, ",") + `],"model":"text-embedding-3-small","usage":{"prompt_tokens":500,"total_tokens":500}}`)
		c, err := New(Config{BaseURL: "http://127.0.0.1:1/v1"})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.parse(body, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var resp struct {
				Data []struct {
					Index     int       `json:"index"`
					Embedding []float32 `json:"embedding"`
				} `json:"data"`
				Usage struct {
					PromptTokens int64 `json:"prompt_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(body, &resp); err != nil || len(resp.Data) != 50 {
				b.Fatal(err)
			}
		}
	})
}
