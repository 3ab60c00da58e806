package mockapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kura-go/kura/embed/tokens"
)

type chatResp struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func chat(t *testing.T, s *Server, body string) chatResp {
	t.Helper()
	w := call(s, "POST", "/v1/chat/completions", body)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var r chatResp
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if r.Object != "chat.completion" || len(r.Choices) == 0 || r.Choices[0].Message.Role != "assistant" {
		t.Fatalf("response %+v", r)
	}
	return r
}

const conversationPrompt = `Summarise the following conversation between a user and an assistant.
<transcript>
user: How do I reverse a linked list in Rust without cloning the nodes?
assistant: Use Option::take to detach each node while walking the list, and push it onto a new head.
</transcript>`

// propertyOrder returns the keys of the JSON object doc, in order.
func propertyOrder(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", doc)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestChatStructuredOutputs(t *testing.T) {
	s := New(Config{})
	for _, file := range []string{"kura_summary_schema.json", "kura_cluster_schema.json", "defs_schema.json"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			var schema map[string]any
			if err := json.Unmarshal(raw, &schema); err != nil {
				t.Fatal(err)
			}
			msgs := fmt.Sprintf(`[{"role":"system","content":"You are a careful analyst."},{"role":"user","content":%q}]`, conversationPrompt)
			modes := map[string]string{
				"json_schema": fmt.Sprintf(`{"model":"gpt-4o-mini","messages":%s,"response_format":{"type":"json_schema","json_schema":{"name":"out","strict":true,"schema":%s}}}`, msgs, raw),
				// instructor's default mode for OpenAI: a forced function call.
				"tool": fmt.Sprintf(`{"model":"gpt-4o-mini","messages":%s,"tools":[{"type":"function","function":{"name":"Other","parameters":{"type":"object"}}},{"type":"function","function":{"name":"Out","parameters":%s}}],"tool_choice":{"type":"function","function":{"name":"Out"}}}`, msgs, raw),
			}
			for mode, body := range modes {
				r := chat(t, s, body)
				var out string
				if mode == "tool" {
					calls := r.Choices[0].Message.ToolCalls
					if len(calls) != 1 || calls[0].Function.Name != "Out" || calls[0].Type != "function" || r.Choices[0].Message.Content != nil {
						t.Fatalf("%s: message %+v, want one call of Out", mode, r.Choices[0].Message)
					}
					out = calls[0].Function.Arguments
				} else {
					out = *r.Choices[0].Message.Content
				}
				var v any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("%s: content is not JSON: %v\n%s", mode, err, out)
				}
				if errs := validate(schema, v); len(errs) > 0 {
					t.Errorf("%s: output does not validate:\n%s\n%s", mode, strings.Join(errs, "\n"), out)
				}
				// Every property, in schema order.
				var top map[string]json.RawMessage
				json.Unmarshal(raw, &top)
				props := propertyOrder(t, top["properties"])
				if got := propertyOrder(t, []byte(out)); !reflect.DeepEqual(got, props) {
					t.Errorf("%s: properties %v, want %v", mode, got, props)
				}
				if r.Usage.CompletionTokens != tokens.Count(out) || r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
					t.Errorf("%s: usage %+v, want %d completion tokens", mode, r.Usage, tokens.Count(out))
				}
				if again := chat(t, s, body); !reflect.DeepEqual(again, r) {
					t.Errorf("%s: not deterministic", mode)
				}
				t.Logf("%s: %s", mode, out)
			}
		})
	}
}

// The summaries are made of the conversation's words, so that embedding and
// clustering mock summaries still groups similar conversations.
func TestChatUsesPromptWords(t *testing.T) {
	raw, _ := os.ReadFile("testdata/kura_cluster_schema.json")
	r := chat(t, New(Config{}), fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"Rust linked list ownership borrow checker Option take"}],"response_format":{"type":"json_schema","json_schema":{"name":"c","schema":%s}}}`, raw))
	var v struct{ Summary, Name string }
	json.Unmarshal([]byte(*r.Choices[0].Message.Content), &v)
	vocab := "rust linked list ownership borrow checker option take"
	for _, w := range strings.Fields(strings.ToLower(strings.Trim(v.Summary+" "+v.Name, "."))) {
		if !strings.Contains(vocab, strings.Trim(w, ".")) {
			t.Errorf("word %q is not from the prompt (%+v)", w, v)
		}
	}
}

func TestGeneratorEdgeSchemas(t *testing.T) {
	tests := []string{
		`{"type":"integer","minimum":3,"maximum":3}`,
		`{"type":"integer","exclusiveMinimum":3,"exclusiveMaximum":5}`,
		`{"type":"integer","multipleOf":7,"minimum":10,"maximum":20}`,
		`{"type":"integer","maximum":-100}`,
		`{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.001}`,
		`{"type":"number","minimum":1,"exclusiveMinimum":true,"maximum":2,"exclusiveMaximum":true}`,
		`{"type":"number","multipleOf":0.25,"minimum":1,"maximum":2}`,
		`{"type":"string","minLength":50}`,
		`{"type":"string","maxLength":0}`,
		`{"type":"array","minItems":5,"items":{"type":"boolean"}}`,
		`{"type":"array","maxItems":0,"items":{"type":"string"}}`,
		`{"type":"array","items":{"type":"string","maxLength":1},"uniqueItems":true,"minItems":4}`,
		`{"type":"array","items":{"enum":["a","b","c","d"]},"uniqueItems":true,"minItems":4}`,
		`{"enum":[null,1,"x"]}`,
		`{"type":["null","string"]}`,
		`{"type":"null"}`,
		`{}`,
		`{"oneOf":[{"type":"integer"},{"type":"string"}]}`,
		`{"definitions":{"A":{"type":"object","properties":{"x":{"$ref":"#/definitions/B"}},"required":["x"]},"B":{"type":"integer","minimum":7,"maximum":8}},"$ref":"#/definitions/A"}`,
		`{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"]}`,
		`{"type":"object","additionalProperties":{"type":"string"}}`,
		`{"$defs":{"T":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/T"},"minItems":1,"maxItems":2},"up":{"anyOf":[{"$ref":"#/$defs/T"},{"type":"null"}]}},"required":["kids","up"]}},"$ref":"#/$defs/T","description":"recursion that must stop"}`,
		`{"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"boolean"}},"required":["b"]}]}`,
	}
	for _, src := range tests {
		var ordered any
		var schema any
		if err := json.Unmarshal([]byte(src), &schema); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		ordered, err := decodeOrdered([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(0); seed < 20; seed++ {
			out := newGenerator(ordered, seed, promptWords(conversationPrompt, 100), MaxOutputBytes).generate(nil, ordered, "", 0, nil)
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("%s (seed %d): invalid JSON %s: %v", src, seed, out, err)
			}
			// The recursive schema is unsatisfiable as written (kids need at
			// least one T): only check that generation stops.
			if strings.Contains(src, "recursion") {
				continue
			}
			if errs := validate(schema, v); len(errs) > 0 {
				t.Errorf("%s (seed %d): %s: %s", src, seed, out, strings.Join(errs, "; "))
			}
		}
	}
}

func TestChatText(t *testing.T) {
	s := New(Config{})
	body := `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Explain tokenizers"},{"type":"text","text":" in one line."}],"name":"ann"}]}`
	r := chat(t, s, body)
	content := *r.Choices[0].Message.Content
	if content == "" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("choice %+v", r.Choices[0])
	}
	// OpenAI's count: 3 per message + role + content (+1 + name), + 3 for the reply.
	wantPrompt := 3 + (3 + tokens.Count("system") + tokens.Count("Be brief.")) +
		(3 + tokens.Count("user") + tokens.Count("Explain tokenizers in one line.") + 1 + tokens.Count("ann"))
	if r.Usage.PromptTokens != wantPrompt || r.Usage.CompletionTokens != tokens.Count(content) {
		t.Errorf("usage %+v, want prompt %d completion %d", r.Usage, wantPrompt, tokens.Count(content))
	}
	r = chat(t, s, strings.Replace(body, `"model"`, `"max_tokens":5,"n":3,"model"`, 1))
	if len(r.Choices) != 3 {
		t.Fatalf("%d choices, want 3", len(r.Choices))
	}
	for i, c := range r.Choices {
		if c.Index != i || c.FinishReason != "length" || tokens.Count(*c.Message.Content) > 5 {
			t.Errorf("choice %d: index %d finish %q content %q, want at most 5 tokens and finish 'length'", i, c.Index, c.FinishReason, *c.Message.Content)
		}
	}
	if st := s.Stats(); st.ByEndpoint.ChatCompletions != 2 || st.CompletionTokens == 0 || st.PromptTokens != 2*int64(wantPrompt) {
		t.Errorf("stats %+v", st)
	}
}

func TestChatJSONObject(t *testing.T) {
	s := New(Config{})
	r := chat(t, s, `{"model":"m","messages":[{"role":"user","content":"Answer in JSON: what is a tokenizer?"}],"response_format":{"type":"json_object"}}`)
	var v map[string]any
	if err := json.Unmarshal([]byte(*r.Choices[0].Message.Content), &v); err != nil || len(v) == 0 {
		t.Errorf("content %q is not a JSON object: %v", *r.Choices[0].Message.Content, err)
	}
}

func TestChatBadRequests(t *testing.T) {
	s := New(Config{})
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ name, body, param string }{
		{"invalid JSON", `{`, ""},
		{"no model", `{` + msgs + `}`, "model"},
		{"no messages", `{"model":"m"}`, "messages"},
		{"bad role", `{"model":"m","messages":[{"role":"robot","content":"hi"}]}`, "messages[0].role"},
		{"no role", `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role"},
		{"no content", `{"model":"m","messages":[{"role":"user"}]}`, "messages[0].content"},
		{"bad content", `{"model":"m","messages":[{"role":"user","content":42}]}`, "messages[0].content"},
		{"stream", `{"model":"m","stream":true,` + msgs + `}`, "stream"},
		{"n zero", `{"model":"m","n":0,` + msgs + `}`, "n"},
		{"max_tokens zero", `{"model":"m","max_tokens":0,` + msgs + `}`, "max_tokens"},
		{"json_object without json", `{"model":"m","response_format":{"type":"json_object"},` + msgs + `}`, "messages"},
		{"json_schema without name", `{"model":"m","response_format":{"type":"json_schema","json_schema":{"schema":{}}},` + msgs + `}`, "response_format.json_schema.name"},
		{"json_schema missing", `{"model":"m","response_format":{"type":"json_schema"},` + msgs + `}`, "response_format.json_schema"},
		{"bad format type", `{"model":"m","response_format":{"type":"xml"},` + msgs + `}`, "response_format.type"},
		{"bad schema", `{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":"oops"}},` + msgs + `}`, ""},
		{"unknown forced tool", `{"model":"m","tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}},` + msgs + `}`, "tool_choice"},
		{"bad tool choice", `{"model":"m","tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"always",` + msgs + `}`, "tool_choice"},
		{"bad tool name", `{"model":"m","tools":[{"type":"function","function":{"name":"a b"}}],` + msgs + `}`, "tools[0].function.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(s, "POST", "/v1/chat/completions", tt.body)
			if tt.name == "bad schema" {
				// A schema that is a string is accepted by the decoder; what
				// matters is a valid answer or a clear 400, never a crash.
				if w.Code != 200 && w.Code != 400 {
					t.Fatalf("status %d", w.Code)
				}
				return
			}
			e := checkError(t, w, 400, "invalid_request_error")
			got := ""
			if e.Error.Param != nil {
				got = *e.Error.Param
			}
			if got != tt.param {
				t.Errorf("param %q, want %q (%s)", got, tt.param, e.Error.Message)
			}
		})
	}
}

func TestChatMalformed(t *testing.T) {
	raw, _ := os.ReadFile("testdata/kura_cluster_schema.json")
	s := New(Config{MalformedRate: 1, Seed: 1})
	kinds := map[string]int{}
	for i := 0; i < 60; i++ {
		body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"conversation %d"}],"response_format":{"type":"json_schema","json_schema":{"name":"c","schema":%s}}}`, i, raw)
		w := call(s, "POST", "/v1/chat/completions", body)
		var r chatResp
		switch err := json.Unmarshal(w.Body.Bytes(), &r); {
		case err != nil:
			kinds["invalid body"]++
		case len(r.Choices) == 0:
			kinds["no choices"]++
		default:
			var v any
			if json.Unmarshal([]byte(*r.Choices[0].Message.Content), &v) != nil {
				kinds["invalid content"]++
			} else {
				t.Errorf("request %d: well-formed answer with MalformedRate 1", i)
			}
		}
	}
	if len(kinds) != 3 {
		t.Errorf("malformed kinds %v, want all three", kinds)
	}
	if st := s.Stats(); st.Malformed != 60 || st.Tokens != 0 {
		t.Errorf("stats %+v, want 60 malformed and no tokens counted", st)
	}
}

// instructor's JSON mode sends response_format json_object with the schema
// written into the system prompt; the answer must still conform.
func TestChatJSONModeSchemaInPrompt(t *testing.T) {
	raw, _ := os.ReadFile("testdata/kura_summary_schema.json")
	var schema map[string]any
	json.Unmarshal(raw, &schema)
	system := "As a genius expert, your task is to understand the content and provide the parsed objects in json that match the following json_schema:\n\n" + string(raw) + "\n\nMake sure to return an instance of the JSON, not the schema itself."
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"system","content":%q},{"role":"user","content":%q}],"response_format":{"type":"json_object"}}`, system, conversationPrompt)
	r := chat(t, New(Config{}), body)
	var v any
	if err := json.Unmarshal([]byte(*r.Choices[0].Message.Content), &v); err != nil {
		t.Fatal(err)
	}
	if errs := validate(schema, v); len(errs) > 0 {
		t.Errorf("does not validate: %v\n%s", errs, *r.Choices[0].Message.Content)
	}
	if _, ok := v.(map[string]any)["summary"]; !ok {
		t.Errorf("answer %s has no summary: the schema in the prompt was not used", *r.Choices[0].Message.Content)
	}
}

// TestValidName checks the hand-written name check against OpenAI's
// pattern, ^[a-zA-Z0-9_-]{1,64}$.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	names := []string{"", "a", "get_weather", "Summary-v2", strings.Repeat("x", 64), strings.Repeat("x", 65), "a b", "a.b", "é", "a\n", "\na", "-", "_", "9"}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, the pattern says %v", n, got, want)
		}
	}
}
