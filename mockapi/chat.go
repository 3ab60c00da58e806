package mockapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
)

// chatRequest is a validated POST /v1/chat/completions request.
type chatRequest struct {
	s         *Server
	model     string
	n         int
	maxTokens int // 0 = no limit
	prompt    int // prompt tokens
	seed      uint64
	words     []string

	mode     string // "text", "json_object", "json_schema" or "tool"
	schema   any    // ordered schema for json_schema and tool modes (nil: any object)
	toolName string
}

func (r *chatRequest) cost() int { return r.prompt + r.maxTokens }

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       *string         `json:"name"`
	ToolCalls  json.RawMessage `json:"tool_calls"`
	ToolCallID *string         `json:"tool_call_id"`
}

// validName reports whether s is a valid function or schema name for
// OpenAI: ^[a-zA-Z0-9_-]{1,64}$ (written out: compiling that expression
// took most of a millisecond of every kura start).
func validName(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func (s *Server) chatCompletions(body []byte) (apiRequest, *requestError) {
	var raw struct {
		Model          *string         `json:"model"`
		Messages       []chatMessage   `json:"messages"`
		ResponseFormat json.RawMessage `json:"response_format"`
		Tools          []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice          json.RawMessage `json:"tool_choice"`
		MaxTokens           *int            `json:"max_tokens"`
		MaxCompletionTokens *int            `json:"max_completion_tokens"`
		N                   *int            `json:"n"`
		Stream              bool            `json:"stream"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("", "We could not parse the JSON body of your request: %v.", err)
	}
	if raw.Model == nil || *raw.Model == "" {
		return nil, badRequest("model", "You must provide a model parameter.")
	}
	r := &chatRequest{s: s, model: *raw.Model, n: 1, mode: "text"}
	if raw.Stream {
		return nil, badRequest("stream", "kura mock-api does not support stream=true.")
	}
	if raw.N != nil {
		if *raw.N < 1 || *raw.N > 128 {
			return nil, badRequest("n", "Invalid value for 'n' = %d. Must be between 1 and 128.", *raw.N)
		}
		r.n = *raw.N
	}
	for _, mt := range []struct {
		name string
		v    *int
	}{{"max_tokens", raw.MaxTokens}, {"max_completion_tokens", raw.MaxCompletionTokens}} {
		if mt.v != nil {
			if *mt.v < 1 {
				return nil, badRequest(mt.name, "Invalid '%s': integer below minimum value. Expected a value >= 1, but got %d instead.", mt.name, *mt.v)
			}
			r.maxTokens = *mt.v
		}
	}
	if len(raw.Messages) == 0 {
		return nil, badRequest("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1.")
	}
	var all, users strings.Builder
	r.prompt = 3 // every reply is primed with <|start|>assistant<|message|>
	for i, m := range raw.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool", "function":
		case "":
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "Missing required parameter: 'messages[%d].role'.", i)
		default:
			return nil, badRequest(fmt.Sprintf("messages[%d].role", i), "Invalid value: %q. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.", m.Role)
		}
		text, err := messageText(m.Content)
		if err != "" {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "Invalid 'messages[%d].content': %s.", i, err)
		}
		if text == "" && m.Role != "assistant" && m.Content == nil {
			return nil, badRequest(fmt.Sprintf("messages[%d].content", i), "Missing required parameter: 'messages[%d].content'.", i)
		}
		r.prompt += 3 + s.count(m.Role) + s.count(text)
		if m.Name != nil {
			r.prompt += 1 + s.count(*m.Name)
		}
		if len(m.ToolCalls) > 0 {
			r.prompt += s.count(string(m.ToolCalls))
		}
		all.WriteString(text)
		all.WriteByte('\n')
		if m.Role == "user" {
			users.WriteString(text)
			users.WriteByte('\n')
		}
	}
	if err := r.parseFormat(raw.ResponseFormat, all.String()); err != nil {
		return nil, err
	}
	// Tools: a forced or automatic tool choice answers with a call whose
	// arguments conform to the function's parameters.
	if len(raw.Tools) > 0 {
		for i, t := range raw.Tools {
			if t.Type != "function" {
				return nil, badRequest(fmt.Sprintf("tools[%d].type", i), "Invalid value: %q. Supported values are: 'function'.", t.Type)
			}
			if !validName(t.Function.Name) {
				return nil, badRequest(fmt.Sprintf("tools[%d].function.name", i), "Invalid 'tools[%d].function.name': must match ^[a-zA-Z0-9_-]{1,64}$, got %q.", i, t.Function.Name)
			}
		}
		r.prompt += s.count(string(mustMarshal(raw.Tools)))
		choice := "auto"
		var forced struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if c := bytes.TrimSpace(raw.ToolChoice); len(c) > 0 && string(c) != "null" {
			if json.Unmarshal(c, &choice) != nil {
				if err := json.Unmarshal(c, &forced); err != nil || forced.Type != "function" || forced.Function.Name == "" {
					return nil, badRequest("tool_choice", "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": ...}}.")
				}
				choice = ""
			}
		}
		pick := -1
		switch choice {
		case "none":
		case "auto", "required":
			pick = 0
		case "":
			for i, t := range raw.Tools {
				if t.Function.Name == forced.Function.Name {
					pick = i
				}
			}
			if pick < 0 {
				return nil, badRequest("tool_choice", "Invalid 'tool_choice': function %q is not in 'tools'.", forced.Function.Name)
			}
		default:
			return nil, badRequest("tool_choice", "Invalid value for 'tool_choice': %q. Supported values are: 'none', 'auto' and 'required'.", choice)
		}
		if pick >= 0 {
			t := raw.Tools[pick]
			r.mode, r.toolName, r.schema = "tool", t.Function.Name, nil
			if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && string(p) != "null" {
				sch, err := decodeOrdered(p)
				if err != nil {
					return nil, badRequest(fmt.Sprintf("tools[%d].function.parameters", pick), "Invalid JSON schema: %v.", err)
				}
				r.schema = sch
			}
		}
	}
	h := fnv.New64a()
	h.Write(body)
	r.seed = h.Sum64()
	words := users.String()
	if strings.TrimSpace(words) == "" {
		words = all.String()
	}
	r.words = promptWords(words, 2000)
	return r, nil
}

// parseFormat reads response_format.
func (r *chatRequest) parseFormat(rf json.RawMessage, prompt string) *requestError {
	rf = bytes.TrimSpace(rf)
	if len(rf) == 0 || string(rf) == "null" {
		return nil
	}
	var f struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(rf, &f); err != nil {
		return badRequest("response_format", "Invalid 'response_format': %v.", err)
	}
	switch f.Type {
	case "text":
	case "json_object":
		if !strings.Contains(strings.ToLower(prompt), "json") {
			return badRequest("messages", "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
		}
		r.mode = "json_object"
		// instructor's JSON mode puts the schema in the prompt: honour it.
		r.schema = schemaInText(prompt)
	case "json_schema":
		if f.JSONSchema == nil {
			return badRequest("response_format.json_schema", "Missing required parameter: 'response_format.json_schema'.")
		}
		if !validName(f.JSONSchema.Name) {
			return badRequest("response_format.json_schema.name", "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$, got %q.", f.JSONSchema.Name)
		}
		r.mode = "json_schema"
		if s := bytes.TrimSpace(f.JSONSchema.Schema); len(s) > 0 && string(s) != "null" {
			sch, err := decodeOrdered(s)
			if err != nil {
				return badRequest("response_format.json_schema.schema", "Invalid JSON schema: %v.", err)
			}
			r.schema = sch
		}
	case "":
		return badRequest("response_format.type", "Missing required parameter: 'response_format.type'.")
	default:
		return badRequest("response_format.type", "Invalid value: %q. Supported values are: 'text', 'json_object' and 'json_schema'.", f.Type)
	}
	return nil
}

// schemaInText finds the first JSON Schema of an object (a JSON object with
// "properties") written in a prompt, as clients that use JSON mode for
// structured output do; nil if there is none.
func schemaInText(text string) any {
	tries := 0
	for i := 0; i < len(text) && tries < 64; i++ {
		j := strings.IndexByte(text[i:], '{')
		if j < 0 {
			break
		}
		i += j
		tries++
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			continue
		}
		v, err := decodeOrdered(raw)
		if err != nil {
			continue
		}
		if o, ok := v.(*object); ok {
			if _, has := o.get("properties"); has {
				return o
			}
		}
	}
	return nil
}

// messageText returns the text of a message's content: a string, null, or
// an array of parts of which the text parts count.
func messageText(c json.RawMessage) (string, string) {
	c = bytes.TrimSpace(c)
	if len(c) == 0 || string(c) == "null" {
		return "", ""
	}
	switch c[0] {
	case '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return "", err.Error()
		}
		return s, ""
	case '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(c, &parts); err != nil {
			return "", "expected an array of content parts"
		}
		var b strings.Builder
		for i, p := range parts {
			switch p.Type {
			case "text":
				if p.Text == nil {
					return "", fmt.Sprintf("part %d has no text", i)
				}
				b.WriteString(*p.Text)
			case "image_url", "input_audio", "file", "refusal":
			default:
				return "", fmt.Sprintf("part %d has unknown type %q", i, p.Type)
			}
		}
		return b.String(), ""
	}
	return "", "expected a string or an array of content parts"
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

type chatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatChoice struct {
	Index   int `json:"index"`
	Message struct {
		Role      string         `json:"role"`
		Content   *string        `json:"content"`
		Refusal   *string        `json:"refusal"`
		ToolCalls []chatToolCall `json:"tool_calls,omitempty"`
	} `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             chatUsage    `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (r *chatRequest) answer(ctx context.Context, bad bool, kind int) ([]byte, usage, error) {
	resp := chatResponse{
		ID:                fmt.Sprintf("chatcmpl-mock%016x", r.seed),
		Object:            "chat.completion",
		Created:           r.s.now().Unix(),
		Model:             r.model,
		SystemFingerprint: "fp_kura_mock",
	}
	completion := 0
	budget := MaxOutputBytes // over all choices
	for i := 0; i < r.n; i++ {
		g := newGenerator(r.schema, r.seed+uint64(i)*0x9e3779b97f4a7c15, r.words, budget)
		var ch chatChoice
		ch.Index = i
		ch.Message.Role = "assistant"
		ch.FinishReason = "stop"
		var out string
		switch r.mode {
		case "json_schema", "tool":
			if r.schema == nil {
				out = `{}`
			} else {
				out = string(g.generate(nil, r.schema, "", 0, nil))
			}
		case "json_object":
			if r.schema != nil {
				out = string(g.generate(nil, r.schema, "", 0, nil))
				break
			}
			out = string(appendJSON(nil, &object{keys: []string{"response"}, vals: map[string]any{"response": g.phrase(12, true)}}))
		default:
			out = g.phrase(24, true)
			if r.maxTokens > 0 {
				words := strings.Fields(out)
				for len(words) > 0 && r.s.count(strings.Join(words, " ")) > r.maxTokens {
					words = words[:len(words)-1]
					ch.FinishReason = "length"
				}
				out = strings.Join(words, " ")
			}
		}
		if g.err != nil {
			param := "response_format"
			if r.mode == "tool" {
				param = "tools"
			}
			return nil, usage{}, badRequest(param, "%v. Lower minLength, minItems or n.", g.err)
		}
		budget -= g.spent
		completion += r.s.count(out)
		if bad && kind == 2 {
			out = out[:len(out)/2]
		}
		if r.mode == "tool" {
			tc := chatToolCall{ID: fmt.Sprintf("call_mock%016x%d", r.seed, i), Type: "function"}
			tc.Function.Name, tc.Function.Arguments = r.toolName, out
			ch.Message.ToolCalls = []chatToolCall{tc}
			if ch.FinishReason == "stop" {
				ch.FinishReason = "tool_calls"
			}
		} else {
			ch.Message.Content = &out
		}
		resp.Choices = append(resp.Choices, ch)
	}
	resp.Usage = chatUsage{PromptTokens: r.prompt, CompletionTokens: completion, TotalTokens: r.prompt + completion}
	if bad && kind == 1 {
		resp.Choices = []chatChoice{}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, usage{}, err
	}
	b = append(b, '\n')
	if bad && kind == 0 {
		b = b[:len(b)/2]
	}
	return b, usage{prompt: r.prompt, completion: completion}, nil
}
