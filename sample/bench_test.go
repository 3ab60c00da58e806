package sample

import (
	"context"
	"testing"
)

// BenchmarkNext measures generating one conversation and its summary in memory.
func BenchmarkNext(b *testing.B) {
	g, err := NewGenerator(Options{Conversations: 1 << 30, Seed: 42})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}

// BenchmarkWriteDir measures writing a 100,000-conversation checkpoint; the
// ns/op divided by 1e5 is the cost per conversation.
func BenchmarkWriteDir(b *testing.B) {
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteDir(context.Background(), dir, Options{Conversations: 100_000, Seed: 42}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextSummary measures generating one summary in memory.
func BenchmarkNextSummary(b *testing.B) {
	g, err := NewGenerator(Options{Conversations: 1 << 30, Seed: 42})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		g.NextSummary()
	}
}
