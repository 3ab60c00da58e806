package conversation

import "strings"

// Text is what kura embeds for a conversation summary: the summary's
// own descriptive fields, one per line, in this order and with these labels:
//
//	<summary>
//	Request: <request>
//	Task: <task>
//	Topic: <topic>
//	Languages: <languages, comma-separated>
//	Assistant errors: <errors, semicolon-separated>
//
// Lines whose field is empty or null are left out. Identifiers and
// bookkeeping (chat_id, metadata, the numeric scores, any stored embedding)
// are never included: Python Kura embeds a debug string that contains the
// chat id, which leaks an arbitrary identifier into the vectors and makes
// summaries of the same content look different.
func (s *ConversationSummary) Text() string {
	var b strings.Builder
	line := func(label, v string) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if label != "" {
			b.WriteString(label)
			b.WriteString(": ")
		}
		b.WriteString(v)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	line("", s.Summary)
	line("Request", str(s.Request))
	line("Task", str(s.Task))
	line("Topic", str(s.Topic))
	line("Languages", joinNonEmpty(s.Languages, ", "))
	line("Assistant errors", joinNonEmpty(s.AssistantErrors, "; "))
	return b.String()
}

func joinNonEmpty(xs []string, sep string) string {
	var parts []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, sep)
}

// MaxConversationChars bounds Conversation.Text: about 8,000 tokens of
// English, the input limit of OpenAI's embedding models. Longer renderings
// are cut at a message boundary when possible (and token-truncated later by
// the embedder anyway).
const MaxConversationChars = 32000

// Text renders a conversation for embedding when it has no
// summary: one "role: content" line per message, in order, with runs of
// whitespace inside a message collapsed to single spaces. The result is at
// most MaxConversationChars bytes; the cut is made at the end of the last
// whole message that fits, or inside the first message when even that one is
// too long, and always on a UTF-8 character boundary. chat_id and metadata
// are never included.
func (c *Conversation) Text() string {
	var b strings.Builder
	for _, m := range c.Messages {
		content := strings.Join(strings.Fields(m.Content), " ")
		if content == "" {
			continue
		}
		role := strings.TrimSpace(m.Role)
		if role == "" {
			role = "unknown"
		}
		line := role + ": " + content
		sep := 0
		if b.Len() > 0 {
			sep = 1
		}
		if b.Len()+sep+len(line) > MaxConversationChars {
			if b.Len() == 0 {
				b.WriteString(cutUTF8(line, MaxConversationChars))
			}
			break
		}
		if sep == 1 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return b.String()
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// end inside a multi-byte character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // s[n] is a continuation byte
		n--
	}
	return s[:n]
}
