package pipeline

import (
	"context"
	"sort"
	"strings"
	"unicode"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/llm"
)

// Extractive is the offline summariser: a deterministic summary built from
// the conversation itself, without a model. The summary quotes the start of
// the user's first request and names the conversation's key terms (the most
// frequent terms of the user's messages, then of the whole conversation);
// request and task restate the first request. Languages is ["english"] when
// English function words make up a good share of the user's words, else
// null; the scores and assistant errors, which would need judgement, are
// null. Similar requests get similar summaries, which is what clustering
// needs.
type Extractive struct {
	// MaxWords bounds the quoted request (default 40 words).
	MaxWords int
	// KeyTerms is the number of key terms named (default 6).
	KeyTerms int
}

// ID identifies the summariser and its settings.
func (e Extractive) ID() map[string]string {
	return map[string]string{"summarizer": "extractive/1", "max_words": itoa(e.maxWords()), "key_terms": itoa(e.keyTerms())}
}

func (e Extractive) maxWords() int {
	if e.MaxWords > 0 {
		return e.MaxWords
	}
	return 40
}

func (e Extractive) keyTerms() int {
	if e.KeyTerms > 0 {
		return e.KeyTerms
	}
	return 6
}

// Summarize builds the facets of c. It never fails on a valid conversation;
// one with no text gets a summary that says so.
func (e Extractive) Summarize(_ context.Context, c *conversation.Conversation) (Facets, llm.Usage, bool, error) {
	var first string
	var user, all strings.Builder
	for _, m := range c.Messages {
		text := strings.Join(strings.Fields(m.Content), " ")
		if text == "" {
			continue
		}
		if m.Role == "user" {
			if first == "" {
				first = text
			}
			user.WriteString(text)
			user.WriteByte('\n')
		}
		all.WriteString(text)
		all.WriteByte('\n')
	}
	if first == "" {
		first = strings.TrimSpace(all.String())
	}
	if first == "" {
		return Facets{Summary: "An empty conversation: no message has any text."}, llm.Usage{}, false, nil
	}
	quote := firstWords(firstSentences(first, e.maxWords()), e.maxWords())
	terms := keyTerms(user.String(), all.String(), e.keyTerms())
	var f Facets
	var b strings.Builder
	b.WriteString("The user asked: \"")
	b.WriteString(quote)
	b.WriteString("\"")
	if turns := countRole(c, "user"); turns > 1 {
		b.WriteString(" and followed up ")
		b.WriteString(itoa(turns - 1))
		if turns == 2 {
			b.WriteString(" time.")
		} else {
			b.WriteString(" times.")
		}
	} else {
		b.WriteString(".")
	}
	if len(terms) > 0 {
		b.WriteString(" Key terms: ")
		b.WriteString(strings.Join(terms, ", "))
		b.WriteString(".")
	}
	f.Summary = b.String()
	req := "The user's overall request for the assistant is: " + quote
	f.Request = &req
	if len(terms) > 0 {
		task := "The task is about " + strings.Join(terms[:min(3, len(terms))], ", ") + "."
		f.Task = &task
	}
	if looksEnglish(user.String()) {
		f.Languages = []string{"english"}
	}
	return f, llm.Usage{}, false, nil
}

func countRole(c *conversation.Conversation, role string) int {
	n := 0
	for _, m := range c.Messages {
		if m.Role == role && strings.TrimSpace(m.Content) != "" {
			n++
		}
	}
	return n
}

// firstSentences returns the leading sentences of s that fit in maxWords
// words (at least the first sentence).
func firstSentences(s string, maxWords int) string {
	words := 0
	end := len(s)
	for i, r := range s {
		if unicode.IsSpace(r) {
			words++
		}
		if (r == '.' || r == '?' || r == '!') && (i+1 == len(s) || s[i+1] == ' ') {
			if words >= maxWords/2 {
				end = i + 1
				break
			}
		}
		if words >= maxWords {
			break
		}
	}
	return s[:end]
}

// firstWords cuts s to at most n words, marking the cut with "...".
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:n], " ") + " ..."
}

// keyTerms returns the n most frequent terms of primary (ties
// alphabetical), topped up from all. The assistant's words break no ties, so
// the same requests get the same key terms however they were answered.
func keyTerms(primary, all string, n int) []string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		hash.Terms(s, func(t string) {
			if len(t) > 2 && !isNumber(t) {
				m[t]++
			}
		})
		return m
	}
	p, a := count(primary), count(all)
	rank := func(m map[string]int) []string {
		ts := make([]string, 0, len(m))
		for t := range m {
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool {
			if m[ts[i]] != m[ts[j]] {
				return m[ts[i]] > m[ts[j]]
			}
			return ts[i] < ts[j]
		})
		return ts
	}
	out := rank(p)
	if len(out) > n {
		return out[:n]
	}
	seen := map[string]bool{}
	for _, t := range out {
		seen[t] = true
	}
	for _, t := range rank(a) {
		if len(out) == n {
			break
		}
		if !seen[t] {
			out = append(out, t)
		}
	}
	return out
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// looksEnglish reports whether at least a fifth of the words of s are
// English function words (they make up about half of running English text).
func looksEnglish(s string) bool {
	words, stop := 0, 0
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		words++
		if hash.IsStopWord(w) {
			stop++
		}
	}
	return words >= 3 && stop*5 >= words
}
