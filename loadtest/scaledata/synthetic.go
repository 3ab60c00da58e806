package scaledata

import (
	"fmt"
	"strings"

	"github.com/kura-go/kura/conversation"
)

var topicWords = [][]string{
	{"recipe", "baking", "bread", "oven", "flour", "dough"},
	{"python", "function", "error", "traceback", "debugging", "variable"},
	{"travel", "itinerary", "flight", "hotel", "museum", "city"},
	{"poem", "rhyme", "stanza", "metaphor", "verse", "imagery"},
	{"tax", "deduction", "income", "filing", "refund", "receipt"},
	{"workout", "muscle", "training", "squat", "protein", "cardio"},
}

var openers = []string{"The user asked for help with", "The user requested guidance on", "The user wanted a detailed explanation of", "The user needed quick advice about"}
var closers = []string{"The assistant provided a clear answer with examples.", "The assistant explained the steps and gave suggestions.", "The assistant offered a concise overview, and then a checklist.", "The assistant described several options, including trade-offs."}

// Synthetic makes a small summaries baseline for tests: perTopic records
// for each of topics topics (up to six distinct vocabularies, then they
// repeat), each topic a ground-truth cluster.
func Synthetic(topics, perTopic int) *Baseline {
	b := &Baseline{Source: "test corpus", Kind: KindSummaries}
	for t := 0; t < topics; t++ {
		w := topicWords[t%len(topicWords)]
		var ids []string
		for i := 0; i < perTopic; i++ {
			id := fmt.Sprintf("t%d-%d", t, i)
			req := fmt.Sprintf("The user's overall request for the assistant is to explain %s and %s.", w[i%6], w[(i+2)%6])
			task := fmt.Sprintf("The task is to cover %s, %s and %s.", w[(i+1)%6], w[(i+3)%6], w[(i+4)%6])
			b.Summaries = append(b.Summaries, conversation.ConversationSummary{
				Summary:   fmt.Sprintf("%s %s and %s. %s", openers[i%4], w[i%6], w[(i+1)%6], closers[(i/4)%4]),
				Request:   &req,
				Task:      &task,
				Languages: []string{"english"},
				ChatID:    id,
				Metadata:  map[string]any{"n": i},
			})
			b.Labels = append(b.Labels, t)
			ids = append(ids, id)
		}
		b.Clusters = append(b.Clusters, conversation.Cluster{ID: fmt.Sprintf("c%d", t), Name: strings.Join(w[:2], " "), Slug: w[0], ChatIDs: ids})
	}
	return b
}
