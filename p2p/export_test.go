package p2p

// BookSize is the number of addresses in the address book (for tests).
func (s *Server) BookSize() int { return s.book.size() }

// Inflight is the number of announced blocks being fetched (for tests).
func (s *Server) Inflight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inflight)
}
