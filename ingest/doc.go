// Package ingest reads conversations from the files users have: Kura's own
// checkpoint files and conversations.json, and the data exports of
// Claude.ai and ChatGPT. Each is streamed: one conversation is in memory at
// a time, so a 2 GB export is read in the memory of its largest
// conversation. The format is told by content, not by file name (see Open),
// or given (Options.Format).
//
// Formats:
//
//   - kura: a Kura checkpoint file of conversations, JSONL
//     (conversations.jsonl) or Parquet, read by package conversation.
//   - kura-json: Kura's conversations.json, a JSON array of Conversation as
//     Python Kura's Conversation.generate_conversation_dump writes it
//     (and from_conversation_dump reads it).
//   - claude: a Claude.ai data export's conversations.json, converted as
//     Python Kura's Conversation.from_claude_conversation_dump does (see
//     decodeClaude for the rules).
//   - chatgpt: a ChatGPT data export's conversations.json: the current
//     branch of each conversation's message tree (see decodeChatGPT).
//
// Every conversation returned is a valid conversation.Conversation. A
// problem names the file, the conversation's 1-based index in the array
// and its byte offset, and the field (*Error); an invalid conversation is
// skipped and reading goes on with the next one, either reported by
// Reader.Next or, under Options.SkipInvalid, passed to Options.OnSkip. A
// conversation larger than Options.MaxElementBytes or nested deeper than
// Options.MaxDepth is skipped in the same way, without being held in memory
// or decoded recursively. A broken array (truncated, mismatched brackets)
// stops reading with a fatal *Error after the conversations before it.
package ingest
