package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// summaryAnswer stands for the structured outputs kura asks for (a
// conversation's summary, a cluster's name): strings, a list and a number.
type summaryAnswer struct {
	Summary    string   `json:"summary"`
	Request    string   `json:"request"`
	Languages  []string `json:"languages"`
	Concerning int      `json:"concerning"`
}

// chatBody builds a chat completions answer whose content is content.
func chatBody(content string, extra string) []byte {
	c, _ := json.Marshal(content)
	return []byte(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":` + string(c) +
		`},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}` + extra + `}`)
}

// FuzzAnswer feeds arbitrary 2xx bodies to the chat answer decoder, with
// the structured output decoded and checked as kura's stages do: an answer
// or an error, never a panic; tokens never negative; a decoded answer
// passes its check; memory bounded by the body.
func FuzzAnswer(f *testing.F) {
	ok := `{"summary":"The user asks for a haiku.","request":"write a haiku","languages":["english"],"concerning":1}`
	f.Add(chatBody(ok, ""))
	f.Add(chatBody(`{"summary":"","request":"x","languages":[],"concerning":9}`, "")) // fails its check
	f.Add(chatBody("not json at all", ""))
	f.Add(chatBody(`{"summary":"`+strings.Repeat("ü", 50000)+`","request":"r","languages":["de"],"concerning":2}`, ""))
	f.Add(chatBody(`{"summary":"s","request":"r","languages":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`,"concerning":1}`, ""))
	f.Add(chatBody(ok, `,"extra":`+strings.Repeat(`{"a":`, 10000)+`1`+strings.Repeat("}", 10000)))
	f.Add([]byte(`{"choices":[{"message":{"content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3}}`))
	f.Add([]byte(`{"choices":[{"message":{"content":"{\"summary\":\"cut"},"finish_reason":"length"}],"usage":{"prompt_tokens":-5,"completion_tokens":-9223372036854775808}}`))
	f.Add([]byte(`{"choices":[],"usage":{"prompt_tokens":3}}`))
	f.Add([]byte(`{"error":{"message":"Bearer sk-abcdefghijklmnop","type":"invalid_request_error"}}`))
	f.Add([]byte("<html><body>502 Bad Gateway</body></html>"))
	f.Add([]byte(`{"choices":[{"message":{"content":"` + strings.Repeat(`\"`, 20000) + `"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var out summaryAnswer
		checked := false
		check := func() error {
			checked = true
			if out.Summary == "" || out.Concerning < 1 || out.Concerning > 5 {
				return fmt.Errorf("summary %q, concerning %d", out.Summary, out.Concerning)
			}
			return nil
		}
		var pt, ct int64
		var err error
		allocbound.Check(t, allocbound.PerByte(len(body), 16, 1<<20), "chat answer", func() {
			pt, ct, err = decodeAnswer(body, &out, check)
		})
		if pt < 0 || ct < 0 {
			t.Fatalf("negative tokens billed: %d prompt, %d completion", pt, ct)
		}
		if err != nil {
			var ae *AnswerError
			var re *RefusalError
			if !errors.As(err, &ae) && !errors.As(err, &re) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if !checked || out.Summary == "" {
			t.Fatalf("accepted an answer without passing its check: %+v", out)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
	})
}
