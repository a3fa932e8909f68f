//! Receive buffers: a batch of fixed-size frame slots allocated once per
//! receiving thread, which a backend fills (one slot at a time, or all free
//! slots at once for a vectored receive such as `recvmmsg`) and the
//! datapath then reads. Steady-state traffic allocates nothing.

/// Preallocated receive buffers and the frames received into them.
pub struct RxBatch {
    /// `capacity` slots of `slot_len` bytes, back to back.
    data: Box<[u8]>,
    slot_len: usize,
    /// Length of the frame in each filled slot.
    lens: Box<[usize]>,
    /// Slots filled, from the first.
    filled: usize,
}

impl std::fmt::Debug for RxBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxBatch")
            .field("capacity", &self.capacity())
            .field("slot_len", &self.slot_len)
            .field("filled", &self.filled)
            .finish()
    }
}

impl RxBatch {
    /// Room for `slots` frames of up to `slot_len` bytes each (both at
    /// least 1). The memory is zeroed lazily by the allocator: pages no
    /// frame ever reaches cost nothing.
    pub fn new(slots: usize, slot_len: usize) -> Self {
        let (slots, slot_len) = (slots.max(1), slot_len.max(1));
        Self {
            data: vec![0; slots.saturating_mul(slot_len)].into_boxed_slice(),
            slot_len,
            lens: vec![0; slots].into_boxed_slice(),
            filled: 0,
        }
    }

    /// Frames the batch can hold.
    pub fn capacity(&self) -> usize {
        self.lens.len()
    }

    /// Bytes per slot: the longest frame a slot holds whole.
    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// Frames received.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// Whether no frame has been received.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// Whether every slot holds a frame.
    pub fn is_full(&self) -> bool {
        self.filled == self.capacity()
    }

    /// Forget the frames; the slots are reused.
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// The next free slot, to receive one frame into; then
    /// [`Self::commit`] its length. `None` when the batch is full.
    pub fn free_slot(&mut self) -> Option<&mut [u8]> {
        let start = self.filled.checked_mul(self.slot_len)?;
        if self.is_full() {
            return None;
        }
        self.data.get_mut(start..start + self.slot_len)
    }

    /// Every free slot in order, for a vectored receive (`recvmmsg`, one
    /// iovec per slot); then [`Self::commit`] each frame received, in order.
    pub fn free_slots(&mut self) -> std::slice::ChunksExactMut<'_, u8> {
        let start = (self.filled * self.slot_len).min(self.data.len());
        self.data[start..].chunks_exact_mut(self.slot_len)
    }

    /// The next free slot now holds a frame of `len` bytes (at most
    /// `slot_len`: a longer frame was truncated by the receive). Ignored
    /// when the batch is full.
    pub fn commit(&mut self, len: usize) {
        if let Some(l) = self.lens.get_mut(self.filled) {
            *l = len.min(self.slot_len);
            self.filled += 1;
        }
    }

    /// Copy `frame` into the next free slot (truncated to `slot_len`).
    /// Returns false, copying nothing, when the batch is full.
    pub fn push(&mut self, frame: &[u8]) -> bool {
        let Some(slot) = self.free_slot() else {
            return false;
        };
        let n = frame.len().min(slot.len());
        slot[..n].copy_from_slice(&frame[..n]);
        self.commit(n);
        true
    }

    /// Frame `i`, if it was received.
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        if i >= self.filled {
            return None;
        }
        let start = i * self.slot_len;
        self.data.get(start..start + self.lens[i])
    }

    /// The frames received, in order.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.filled).filter_map(|i| self.frame(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_in_order_and_truncate() {
        let mut b = RxBatch::new(3, 8);
        assert!(b.is_empty() && !b.is_full());
        assert!(b.push(b"one"));
        let s = b.free_slot().unwrap();
        s[..3].copy_from_slice(b"two");
        b.commit(3);
        assert!(b.push(b"a frame longer than a slot"));
        assert!(b.is_full());
        assert!(!b.push(b"no room"), "full");
        assert!(b.free_slot().is_none());
        b.commit(1);
        let got: Vec<&[u8]> = b.frames().collect();
        assert_eq!(got, [&b"one"[..], b"two", b"a frame "]);
        assert_eq!(b.frame(3), None);
        b.clear();
        assert!(b.is_empty() && b.frames().next().is_none());
    }

    #[test]
    fn free_slots_serve_a_vectored_receive() {
        let mut b = RxBatch::new(4, 16);
        b.push(b"first");
        let mut n = 0;
        for (i, slot) in b.free_slots().enumerate() {
            assert_eq!(slot.len(), 16);
            slot[0] = b'a' + i as u8;
            n += 1;
        }
        assert_eq!(n, 3);
        b.commit(1);
        b.commit(1);
        assert_eq!(b.len(), 3);
        assert_eq!(b.frame(1), Some(&b"a"[..]));
        assert_eq!(b.frame(2), Some(&b"b"[..]));
        b.commit(1);
        assert_eq!(b.free_slots().count(), 0);
    }
}
