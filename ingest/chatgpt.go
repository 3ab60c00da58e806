package ingest

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kura-go/kura/conversation"
)

// A ChatGPT data export (conversations.json) is a JSON array of
// conversations, each a tree of message nodes; editing a message or
// regenerating an answer starts a new branch, and current_node is the last
// node of the branch the user saw last:
//
//	{"title": "...", "create_time": 1714564800.123, "update_time": ..., "current_node": "n3",
//	 "conversation_id": "...", "id": "...", "default_model_slug": "gpt-4o",
//	 "mapping": {"n0": {"id": "n0", "message": null, "parent": null, "children": ["n1"]},
//	             "n1": {"id": "n1", "parent": "n0", "children": ["n2"], "message": {
//	                "author": {"role": "user"}, "create_time": 1714564801.5,
//	                "content": {"content_type": "text", "parts": ["Hello"]},
//	                "metadata": {"is_visually_hidden_from_conversation": false}, "recipient": "all"}}, ...}}

type gptConversation struct {
	ID               string             `json:"id"`
	ConversationID   string             `json:"conversation_id"`
	Title            *string            `json:"title"`
	CreateTime       *float64           `json:"create_time"`
	Mapping          map[string]gptNode `json:"mapping"`
	CurrentNode      *string            `json:"current_node"`
	DefaultModelSlug *string            `json:"default_model_slug"`
}

type gptNode struct {
	Message  *gptMessage `json:"message"`
	Parent   *string     `json:"parent"`
	Children []string    `json:"children"`
}

type gptMessage struct {
	Author struct {
		Role string `json:"role"`
	} `json:"author"`
	CreateTime *float64 `json:"create_time"`
	Content    struct {
		ContentType string            `json:"content_type"`
		Parts       []json.RawMessage `json:"parts"`
		Text        *string           `json:"text"`
	} `json:"content"`
	Metadata struct {
		Hidden bool `json:"is_visually_hidden_from_conversation"`
	} `json:"metadata"`
	Recipient string `json:"recipient"`
}

// decodeChatGPT converts one conversation of a ChatGPT export: the messages
// of the current branch, from the root down to current_node (or, when
// current_node is absent, down the newest child at each fork). Left out are
// nodes without a message, system and tool messages, messages hidden from
// the conversation view (custom instructions and the like), messages
// addressed to a tool (recipient other than "all": search queries, code
// for the Python tool), and messages with no text: text is the string parts of "text" and "multimodal_text"
// content joined by newlines (images, audio and other non-text parts are
// left out) and the code of "code" content; other content types (thoughts,
// browsing results, execution output) have none. chat_id is
// conversation_id, else id; times are the Unix create_time as UTC, a
// message without one taking the time of the message before it (or of the
// conversation). Metadata holds source "chatgpt", the title and the
// default model slug when set.
func decodeChatGPT(raw []byte, st *Stats) (conversation.Conversation, *fieldError) {
	var gc gptConversation
	if err := json.Unmarshal(raw, &gc); err != nil {
		return conversation.Conversation{}, jsonError(err)
	}
	id := gc.ConversationID
	if id == "" {
		id = gc.ID
	}
	if id == "" {
		return conversation.Conversation{}, ferr("conversation_id", "expected a non-empty string in conversation_id or id")
	}
	if gc.Mapping == nil {
		return conversation.Conversation{}, ferr("mapping", "required field missing")
	}
	branch, fe := gptBranch(&gc)
	if fe != nil {
		return conversation.Conversation{}, fe
	}
	var created conversation.Time
	if gc.CreateTime != nil {
		t, fe := unixTime("create_time", *gc.CreateTime)
		if fe != nil {
			return conversation.Conversation{}, fe
		}
		created = t
	}
	c := conversation.Conversation{ChatID: id, Messages: []conversation.Message{}}
	last := created
	for _, key := range branch {
		m := gc.Mapping[key].Message
		if m == nil {
			continue
		}
		if m.CreateTime != nil {
			t, fe := unixTime("mapping."+key+".message.create_time", *m.CreateTime)
			if fe != nil {
				return conversation.Conversation{}, fe
			}
			last = t
		}
		role := m.Author.Role
		if role != "user" && role != "assistant" || m.Metadata.Hidden || (m.Recipient != "" && m.Recipient != "all") {
			st.Dropped++
			continue
		}
		text := gptText(m)
		if strings.TrimSpace(text) == "" {
			st.Dropped++
			continue
		}
		c.Messages = append(c.Messages, conversation.Message{CreatedAt: last, Role: role, Content: text})
	}
	if created.IsZero() {
		if len(c.Messages) == 0 {
			return conversation.Conversation{}, ferr("create_time", "missing, and no message has a time")
		}
		created = c.Messages[0].CreatedAt
	}
	// Messages before the first one with a time take the conversation's.
	for i := range c.Messages {
		if !c.Messages[i].CreatedAt.IsZero() {
			break
		}
		c.Messages[i].CreatedAt = created
	}
	c.CreatedAt = created
	c.Metadata = map[string]any{"source": "chatgpt"}
	if gc.Title != nil && *gc.Title != "" {
		c.Metadata["title"] = *gc.Title
	}
	if gc.DefaultModelSlug != nil && *gc.DefaultModelSlug != "" {
		c.Metadata["model"] = *gc.DefaultModelSlug
	}
	return c, nil
}

// gptBranch returns the node keys of the current branch, root first.
func gptBranch(gc *gptConversation) ([]string, *fieldError) {
	leaf := ""
	if gc.CurrentNode != nil && *gc.CurrentNode != "" {
		leaf = *gc.CurrentNode
		if _, ok := gc.Mapping[leaf]; !ok {
			return nil, ferr("current_node", "%q names no node of mapping", leaf)
		}
	} else {
		// No current_node: start at a root and follow the newest child.
		roots := make([]string, 0, 1)
		for k, n := range gc.Mapping {
			if n.Parent == nil || *n.Parent == "" {
				roots = append(roots, k)
			} else if _, ok := gc.Mapping[*n.Parent]; !ok {
				roots = append(roots, k)
			}
		}
		if len(roots) == 0 {
			if len(gc.Mapping) == 0 {
				return nil, nil
			}
			return nil, ferr("mapping", "no root node (every node has a parent)")
		}
		slices.Sort(roots) // a deterministic choice when there are several
		leaf = roots[0]
		seen := map[string]bool{leaf: true}
		for {
			n := gc.Mapping[leaf]
			next := ""
			for i := len(n.Children) - 1; i >= 0; i-- {
				if _, ok := gc.Mapping[n.Children[i]]; ok && !seen[n.Children[i]] {
					next = n.Children[i]
					break
				}
			}
			if next == "" {
				break
			}
			seen[next] = true
			leaf = next
		}
	}
	var branch []string
	seen := make(map[string]bool)
	for key := leaf; ; {
		if seen[key] {
			return nil, ferr("mapping."+key+".parent", "the chain of parents from current_node loops")
		}
		seen[key] = true
		branch = append(branch, key)
		n := gc.Mapping[key]
		if n.Parent == nil || *n.Parent == "" {
			break
		}
		if _, ok := gc.Mapping[*n.Parent]; !ok {
			return nil, ferr("mapping."+key+".parent", "%q names no node of mapping", *n.Parent)
		}
		key = *n.Parent
	}
	slices.Reverse(branch)
	return branch, nil
}

// gptText returns the text of a message's content.
func gptText(m *gptMessage) string {
	switch m.Content.ContentType {
	case "text", "multimodal_text":
		var parts []string
		for _, p := range m.Content.Parts {
			if len(p) == 0 || p[0] != '"' {
				continue // an image, audio or other non-text part
			}
			var s string
			if json.Unmarshal(p, &s) == nil && s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\n")
	case "code":
		if m.Content.Text != nil {
			return *m.Content.Text
		}
	}
	return ""
}

// unixTime converts Unix seconds (with a fraction) to a UTC time rounded to
// microseconds, as Python's datetime.fromtimestamp stores it.
func unixTime(field string, secs float64) (conversation.Time, *fieldError) {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 || secs > 253402300799 {
		return conversation.Time{}, ferr(field, "Unix time %v out of range", secs)
	}
	whole := math.Floor(secs)
	us := math.Round((secs - whole) * 1e6)
	t := time.Unix(int64(whole), int64(us)*1000).UTC()
	return conversation.Time{Time: t, HasZone: true}, nil
}
