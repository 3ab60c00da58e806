package loadtest

import "github.com/kura-go/kura/conversation"

// KuraFiles implements RecordIO with package conversation: validated JSONL
// and Parquet, errors naming file, line and field.
type KuraFiles struct{}

var _ RecordIO = KuraFiles{}

// FindCheckpoint implements RecordIO.
func (KuraFiles) FindCheckpoint(dir string) (summaries, conversations, clusters string, err error) {
	c, err := conversation.FindCheckpoint(dir)
	if err != nil {
		return "", "", "", err
	}
	return c.Summaries, c.Conversations, c.Clusters, nil
}

// ReadSummaries implements RecordIO.
func (KuraFiles) ReadSummaries(path string) ([]conversation.ConversationSummary, error) {
	return conversation.ReadFile[conversation.ConversationSummary](path, conversation.ReadOptions{})
}

// ReadConversations implements RecordIO.
func (KuraFiles) ReadConversations(path string) ([]conversation.Conversation, error) {
	return conversation.ReadFile[conversation.Conversation](path, conversation.ReadOptions{})
}

// ReadClusters implements RecordIO.
func (KuraFiles) ReadClusters(path string) ([]conversation.Cluster, error) {
	return conversation.ReadFile[conversation.Cluster](path, conversation.ReadOptions{})
}

// WriteSummaries implements RecordIO.
func (KuraFiles) WriteSummaries(path string, recs []conversation.ConversationSummary) error {
	return conversation.WriteFile(path, recs)
}

// WriteConversations implements RecordIO.
func (KuraFiles) WriteConversations(path string, recs []conversation.Conversation) error {
	return conversation.WriteFile(path, recs)
}

// WriteClusters implements RecordIO.
func (KuraFiles) WriteClusters(path string, recs []conversation.Cluster) error {
	return conversation.WriteFile(path, recs)
}
