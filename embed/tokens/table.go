package tokens

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// rankTable maps token bytes to ranks (token ids) and back. It stores all
// tokens in one byte slice with an open-addressing hash index, about 2.5 MB
// for cl100k_base against some 8 MB for a map[string]int, which matters to a
// load tester whose every process loads it.
type rankTable struct {
	data  []byte   // token bytes, concatenated in id order
	off   []uint32 // token id's bytes are data[off[id]:off[id+1]]
	slots []int32  // hash index: token id, or -1 for an empty slot
	mask  uint32
}

// loadRankTable parses the embedded tiktoken file of the named encoding:
// one "base64-token rank" pair per line, ranks 0..n-1 in order.
func loadRankTable(name string) (*rankTable, error) {
	f, err := assets.Assets.Open(name + ".tiktoken")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &rankTable{off: []uint32{0}}
	sc := bufio.NewScanner(f)
	var buf []byte
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		sp := -1
		for i, c := range b {
			if c == ' ' {
				sp = i
				break
			}
		}
		if sp < 0 {
			return nil, fmt.Errorf("%s.tiktoken:%d: no space between token and rank", name, line)
		}
		buf = buf[:0]
		buf, err = base64.StdEncoding.AppendDecode(buf, b[:sp])
		if err != nil {
			return nil, fmt.Errorf("%s.tiktoken:%d: %w", name, line, err)
		}
		rank, err := strconv.Atoi(string(b[sp+1:]))
		if err != nil || rank != len(t.off)-1 {
			return nil, fmt.Errorf("%s.tiktoken:%d: rank %q, want %d", name, line, b[sp+1:], len(t.off)-1)
		}
		t.data = append(t.data, buf...)
		t.off = append(t.off, uint32(len(t.data)))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	t.data = append([]byte(nil), t.data...) // drop the growth slack
	t.off = append([]uint32(nil), t.off...)
	size := uint32(1)
	for size < uint32(2*t.len()) {
		size <<= 1
	}
	t.slots = make([]int32, size)
	for i := range t.slots {
		t.slots[i] = -1
	}
	t.mask = size - 1
	for id := 0; id < t.len(); id++ {
		h := hashBytes(t.data[t.off[id]:t.off[id+1]]) & t.mask
		for t.slots[h] >= 0 {
			h = (h + 1) & t.mask
		}
		t.slots[h] = int32(id)
	}
	return t, nil
}

// len is the number of tokens.
func (t *rankTable) len() int { return len(t.off) - 1 }

// token returns the bytes of token id.
func (t *rankTable) token(id int) []byte { return t.data[t.off[id]:t.off[id+1]] }

// get returns the rank of the token s and whether s is a token.
func (t *rankTable) get(s string) (int, bool) {
	h := hashString(s) & t.mask
	for {
		id := t.slots[h]
		if id < 0 {
			return 0, false
		}
		if string(t.data[t.off[id]:t.off[id+1]]) == s {
			return int(id), true
		}
		h = (h + 1) & t.mask
	}
}

// FNV-1a, 32 bits.
func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
