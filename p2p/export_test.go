package p2p

// BookSize is the number of addresses in the address book (for tests).
func (s *Server) BookSize() int {
	n, t := s.book.Counts()
	return n + t
}

// Tried reports whether addr is in the tried table (for tests).
func (s *Server) Tried(addr string) bool { return s.book.Tried(addr) }

// Inflight is the number of announced blocks being fetched (for tests).
func (s *Server) Inflight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inflight)
}
