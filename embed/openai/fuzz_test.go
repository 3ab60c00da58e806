package openai

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzParse feeds arbitrary bodies to the embeddings response parser, for 1
// to 8 inputs: vectors or an error, never a panic; every vector returned is
// finite and of one length; memory bounded by the body.
func FuzzParse(f *testing.F) {
	one := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-2e-3,3]}],"usage":{"prompt_tokens":3,"total_tokens":3}}`
	f.Add([]byte(one), uint8(1))
	f.Add([]byte(`{"data":[{"index":1,"embedding":"AACAPwAAAEA="},{"index":0,"embedding":"AACAPwAAAEA="}]}`), uint8(2))
	f.Add([]byte(`{"data":[{"index":0,"embedding":"AADAfwAAgH8="}]}`), uint8(1)) // NaN, +Inf
	f.Add([]byte(`{"data":[{"index":0,"embedding":[1e39]}]}`), uint8(1))
	f.Add([]byte(`{"error":{"message":"Bearer sk-abcdefghijkl"}}`), uint8(1))
	f.Add([]byte(`{"data":[{"index":0,"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`,"embedding":[1]}]}`), uint8(1))
	f.Add([]byte("<html>502 Bad Gateway</html>"), uint8(3))
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		inputs := int(n%8) + 1
		c, err := New(Config{BaseURL: "http://127.0.0.1:1/v1", APIKey: "sk-fuzz-key-123456"})
		if err != nil {
			t.Fatal(err)
		}
		var vecs [][]float32
		allocbound.Check(t, allocbound.PerByte(len(body), 16, 1<<20), "embeddings response", func() {
			vecs, _, err = c.parse(body, inputs)
		})
		if err != nil {
			if strings.Contains(err.Error(), "sk-fuzz-key-123456") {
				t.Fatalf("error shows the key: %v", err)
			}
			return
		}
		if len(vecs) != inputs {
			t.Fatalf("%d vectors for %d inputs", len(vecs), inputs)
		}
		for i, v := range vecs {
			if len(v) == 0 || len(v) != len(vecs[0]) {
				t.Fatalf("vector %d has %d values, vector 0 %d", i, len(v), len(vecs[0]))
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("vector %d holds %v", i, x)
				}
			}
		}
		// What the parser accepted, encoding/json must accept too.
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
	})
}
