package conversation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummaryText(t *testing.T) {
	score := 3
	tests := []struct {
		name string
		s    ConversationSummary
		want string
	}{
		{
			name: "all fields",
			s: ConversationSummary{
				Summary: "  The user asked for a poem. ", Request: ptr("Write a poem"), Task: ptr("Creative writing"),
				Topic: ptr("poetry"), Languages: []string{"english", " ", "french"}, AssistantErrors: []string{"too long", "off topic"},
				ConcerningScore: &score, ChatID: "chat-123", Metadata: map[string]any{"question_id": 81},
			},
			want: "The user asked for a poem.\nRequest: Write a poem\nTask: Creative writing\nTopic: poetry\nLanguages: english, french\nAssistant errors: too long; off topic",
		},
		{
			name: "nulls left out",
			s:    ConversationSummary{Summary: "Only a summary.", ChatID: "x", Languages: []string{}},
			want: "Only a summary.",
		},
		{
			name: "empty summary",
			s:    ConversationSummary{Request: ptr("r"), ChatID: "x"},
			want: "Request: r",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.Text()
			if got != tt.want {
				t.Errorf("SummaryText =\n%q\nwant\n%q", got, tt.want)
			}
			if strings.Contains(got, tt.s.ChatID) && tt.s.ChatID != "" && !strings.Contains(tt.want, tt.s.ChatID) {
				t.Errorf("chat id leaked into %q", got)
			}
		})
	}
}

func TestConversationText(t *testing.T) {
	c := Conversation{ChatID: "secret-id", Metadata: map[string]any{"k": "v"}, Messages: []Message{
		{Role: "user", Content: "Hello,\n\n  how are   you?"},
		{Role: "assistant", Content: "Fine."},
		{Role: "tool", Content: "   "},
		{Role: "", Content: "x"},
	}}
	want := "user: Hello, how are you?\nassistant: Fine.\nunknown: x"
	if got := c.Text(); got != want {
		t.Errorf("ConversationText = %q, want %q", got, want)
	}

	// Bounded: whole messages that fit, and a character-safe cut of a single
	// message that is too long on its own.
	big := strings.Repeat("é", MaxConversationChars) // 2 bytes each
	long := Conversation{Messages: []Message{
		{Role: "user", Content: strings.Repeat("a", MaxConversationChars-100)},
		{Role: "assistant", Content: strings.Repeat("b", 200)},
	}}
	got := long.Text()
	if len(got) > MaxConversationChars || strings.Contains(got, "assistant:") {
		t.Errorf("long conversation not cut at a message boundary: %d bytes", len(got))
	}
	one := (&Conversation{Messages: []Message{{Role: "user", Content: big}}}).Text()
	if len(one) > MaxConversationChars || len(one) < MaxConversationChars-1 || !utf8.ValidString(one) {
		t.Errorf("single long message: %d bytes, valid UTF-8 %v", len(one), utf8.ValidString(one))
	}
}
