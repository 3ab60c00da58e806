package pipeline

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/kura-go/kura/embed/hash"
)

// summaryWords are the words of summaries' own boilerplate ("The user's
// overall request for the assistant is to ..."): they name no topic.
var summaryWords = map[string]bool{"user": true, "users": true, "assistant": true, "request": true,
	"requested": true, "asked": true, "ask": true, "provide": true, "provided": true, "task": true,
	"overall": true, "help": true, "want": true, "wanted": true, "response": true, "responded": true,
	"conversation": true, "sought": true, "seek": true, "seeking": true, "key": true, "term": true}

// classTerms counts the terms (words and adjacent word pairs, as the hash
// embedder sees them) of each class's documents.
func classTerms(docs [][]string) []map[string]float64 {
	out := make([]map[string]float64, len(docs))
	for c, texts := range docs {
		m := map[string]float64{}
		for _, t := range texts {
			prev := ""
			hash.Terms(t, func(w string) {
				if len(w) < 3 || isNumber(w) || summaryWords[w] {
					prev = ""
					return
				}
				m[w]++
				if prev != "" {
					m[prev+" "+w]++
				}
				prev = w
			})
		}
		out[c] = m
	}
	return out
}

// Keywords returns the n most distinctive terms of each class of documents
// by class-based TF-IDF (BERTopic's c-TF-IDF): the weight of term t in
// class c is tf(t,c)/|c| × log(1 + A/f(t)), where |c| is the class's term
// count, A the mean term count per class and f(t) the term's count over
// all classes. A term sharing a word with one already chosen is passed over, and a
// word gives way to a pair that carries it at least half the time.
// Ties break alphabetically, so the result is deterministic.
func Keywords(docs [][]string, n int) [][]string {
	tf := classTerms(docs)
	total := map[string]float64{}
	sum := 0.0
	for _, m := range tf {
		for t, v := range m {
			total[t] += v
			sum += v
		}
	}
	avg := sum / float64(max(1, len(tf)))
	out := make([][]string, len(tf))
	for c, m := range tf {
		size := 0.0
		for _, v := range m {
			size += v
		}
		type scored struct {
			t string
			w float64
		}
		var s []scored
		for t, v := range m {
			if strings.Contains(t, " ") && v < 2 {
				continue // a pair seen once is an accident, not a theme
			}
			s = append(s, scored{t, v / size * math.Log(1+avg/total[t])})
		}
		sort.Slice(s, func(i, j int) bool {
			if s[i].w != s[j].w {
				return s[i].w > s[j].w
			}
			return s[i].t < s[j].t
		})
		used := map[string]bool{}
		for _, x := range s {
			if len(out[c]) == n {
				break
			}
			if !strings.Contains(x.t, " ") {
				// A pair that nearly always carries the word says more
				// ("role play" rather than "role").
				best, bestN := "", 0.0
				for t, v := range m {
					if (v > bestN || v == bestN && t < best) && v*2 >= m[x.t] && strings.Contains(t, " ") && slices.Contains(strings.Fields(t), x.t) {
						best, bestN = t, v
					}
				}
				if best != "" {
					x.t = best
				}
			}
			words := strings.Fields(x.t)
			fresh := true
			for _, w := range words {
				fresh = fresh && !used[w]
			}
			if !fresh {
				continue
			}
			for _, w := range words {
				used[w] = true
			}
			out[c] = append(out[c], x.t)
		}
	}
	return out
}

// keywordName turns keywords into a cluster name ("Grammar correction,
// gendered pronoun and paragraph") and slug ("grammar_correction_gendered").
func keywordName(kw []string) (name, slug string) {
	if len(kw) == 0 {
		return "Miscellaneous", "miscellaneous"
	}
	k := kw[:min(3, len(kw))]
	switch len(k) {
	case 1:
		name = k[0]
	case 2:
		name = k[0] + " and " + k[1]
	default:
		name = k[0] + ", " + k[1] + " and " + k[2]
	}
	name = strings.ToUpper(name[:1]) + name[1:]
	return name, slugify(strings.Join(k, " "))
}

// slugify keeps lower-case letters and digits, joins words with '_', and
// keeps at most 5 words.
func slugify(s string) string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		words = append(words, w)
		if len(words) == 5 {
			break
		}
	}
	if len(words) == 0 {
		return "cluster"
	}
	return strings.Join(words, "_")
}
