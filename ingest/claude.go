package ingest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kura-go/kura/conversation"
)

// A Claude.ai data export (conversations.json) is a JSON array of
// conversations:
//
//	{"uuid": "...", "name": "Title", "created_at": "2024-05-01T12:00:00.000000Z", ...,
//	 "chat_messages": [{"uuid": "...", "sender": "human", "created_at": "...",
//	   "text": "...", "content": [{"type": "text", "text": "..."}, {"type": "tool_use", ...}],
//	   "attachments": [{"file_name": "...", "extracted_content": "..."}], "files": [...]}]}

type claudeConversation struct {
	UUID         string          `json:"uuid"`
	Name         string          `json:"name"`
	CreatedAt    *string         `json:"created_at"`
	ChatMessages []claudeMessage `json:"chat_messages"`
}

type claudeMessage struct {
	Sender    string       `json:"sender"`
	CreatedAt *string      `json:"created_at"`
	Text      *string      `json:"text"`
	Content   []claudePart `json:"content"`
}

type claudePart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// decodeClaude converts one conversation of a Claude.ai export the way
// Python Kura's Conversation.from_claude_conversation_dump does: chat_id is
// uuid, messages are sorted by created_at (a human message before the
// assistant's at the same time, otherwise in file order), sender "human" is
// the user and any other sender the assistant, and a message's content is
// its "text" parts joined by newlines (tool use, tool results, thinking and
// images are left out, and so are attachments' extracted text, as Kura does).
// Older exports whose messages have no "content" list use the message's
// "text". Metadata holds source "claude" and the title ("name") when set.
func decodeClaude(raw []byte, _ *Stats) (conversation.Conversation, *fieldError) {
	var cc claudeConversation
	if err := json.Unmarshal(raw, &cc); err != nil {
		return conversation.Conversation{}, jsonError(err)
	}
	if cc.UUID == "" {
		return conversation.Conversation{}, ferr("uuid", "expected a non-empty string (the conversation's id)")
	}
	if cc.CreatedAt == nil {
		return conversation.Conversation{}, ferr("created_at", "required field missing")
	}
	created, err := conversation.ParseTime(*cc.CreatedAt)
	if err != nil {
		return conversation.Conversation{}, ferr("created_at", "%v", err)
	}
	type msg struct {
		conversation.Message
		human bool
	}
	msgs := make([]msg, len(cc.ChatMessages))
	var parts []string
	for i, m := range cc.ChatMessages {
		path := fmt.Sprintf("chat_messages[%d]", i)
		if m.CreatedAt == nil {
			return conversation.Conversation{}, ferr(path+".created_at", "required field missing")
		}
		t, err := conversation.ParseTime(*m.CreatedAt)
		if err != nil {
			return conversation.Conversation{}, ferr(path+".created_at", "%v", err)
		}
		if m.Sender == "" {
			return conversation.Conversation{}, ferr(path+".sender", "expected \"human\" or \"assistant\", got none")
		}
		var text string
		if m.Content != nil {
			parts = parts[:0]
			for _, p := range m.Content {
				if p.Type == "text" && p.Text != nil {
					parts = append(parts, *p.Text)
				}
			}
			text = strings.Join(parts, "\n")
		} else if m.Text != nil {
			text = *m.Text
		}
		role := "assistant"
		if m.Sender == "human" {
			role = "user"
		}
		msgs[i] = msg{conversation.Message{CreatedAt: t, Role: role, Content: text}, m.Sender == "human"}
	}
	slices.SortStableFunc(msgs, func(a, b msg) int {
		if c := a.CreatedAt.Compare(b.CreatedAt.Time); c != 0 {
			return c
		}
		return cmp.Compare(rank(a.human), rank(b.human))
	})
	c := conversation.Conversation{ChatID: cc.UUID, CreatedAt: created, Messages: make([]conversation.Message, len(msgs))}
	for i := range msgs {
		c.Messages[i] = msgs[i].Message
	}
	c.Metadata = map[string]any{"source": "claude"}
	if cc.Name != "" {
		c.Metadata["title"] = cc.Name
	}
	return c, nil
}

func rank(human bool) int {
	if human {
		return 0
	}
	return 1
}
