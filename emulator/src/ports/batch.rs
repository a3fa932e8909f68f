//! Receive buffers: a batch of fixed-size frame slots allocated once per
//! receiving thread, which a backend fills (one slot at a time, or all free
//! slots at once for a vectored receive such as `recvmmsg`) and the
//! datapath then reads. Transmit buffers: frames on their way out of one
//! port, packed back to back, sent with one [`super::WireTx::send_batch`].
//! Steady-state traffic allocates nothing.

/// Frames a [`TxBatch`] holds: one `sendmmsg` call's worth (`MMSG_MAX`).
pub const TX_BATCH: usize = 64;
/// Bytes a [`TxBatch`] holds: 64 frames of 2 KiB, or fewer jumbo ones
/// (a frame that does not fit waits for the next batch).
pub const TX_BATCH_BYTES: usize = TX_BATCH * 2048;

/// Frames on their way out of one port, copied back to back into one
/// buffer allocated once, with room for [`TX_BATCH`] frames and
/// [`TX_BATCH_BYTES`] bytes; after a send, whether each went out.
pub struct TxBatch {
    data: Box<[u8]>,
    /// Bytes used, from the start of `data`.
    used: usize,
    /// End of each frame in `data`; frame `i` starts where `i - 1` ends.
    ends: [usize; TX_BATCH],
    /// Whether each frame went out, after a send.
    sent: [bool; TX_BATCH],
    /// Frames held.
    len: usize,
}

impl std::fmt::Debug for TxBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxBatch")
            .field("len", &self.len)
            .field("used", &self.used)
            .finish()
    }
}

impl Default for TxBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl TxBatch {
    /// An empty batch (its buffer zeroed lazily by the allocator).
    pub fn new() -> Self {
        Self {
            data: vec![0; TX_BATCH_BYTES].into_boxed_slice(),
            used: 0,
            ends: [0; TX_BATCH],
            sent: [false; TX_BATCH],
            len: 0,
        }
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget the frames; the buffer is reused.
    pub fn clear(&mut self) {
        self.len = 0;
        self.used = 0;
    }

    /// Copy `frame` in as the next frame, zero-padded to `min` bytes.
    /// Returns false, copying nothing, when the batch has no room for it
    /// (send the batch, clear it, and push again; a frame longer than
    /// [`TX_BATCH_BYTES`] never fits).
    pub fn push_padded(&mut self, frame: &[u8], min: usize) -> bool {
        let n = frame.len().max(min);
        let Some(end) = self.used.checked_add(n) else {
            return false;
        };
        let (Some(slot), Some(e)) = (
            self.data.get_mut(self.used..end),
            self.ends.get_mut(self.len),
        ) else {
            return false;
        };
        let (head, pad) = slot.split_at_mut(frame.len());
        head.copy_from_slice(frame);
        pad.fill(0);
        *e = end;
        self.used = end;
        self.len += 1;
        true
    }

    /// Frame `i`, if held.
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends[..self.len].get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }

    /// The frames held, in order.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len).filter_map(|i| self.frame(i))
    }

    /// The frames and their send marks, for a backend to send and mark.
    pub(super) fn parts(&mut self) -> (impl Iterator<Item = &[u8]> + '_, &mut [bool]) {
        let Self {
            data,
            ends,
            sent,
            len,
            ..
        } = self;
        let ends = &ends[..*len];
        let data: &[u8] = data;
        let frames = ends.iter().enumerate().filter_map(move |(i, &end)| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            data.get(start..end)
        });
        (frames, &mut sent[..*len])
    }

    /// Each frame held and whether it went out, as the last send marked.
    pub fn outcomes(&self) -> impl Iterator<Item = (&[u8], bool)> + '_ {
        self.frames().zip(self.sent.iter().copied())
    }
}

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
    fn tx_batches_pack_and_pad_frames_and_refuse_past_their_room() {
        let mut b = TxBatch::new();
        assert!(b.push_padded(b"short", 8));
        assert!(b.push_padded(&[7; 10], 8));
        assert_eq!(b.frame(0), Some(&b"short\0\0\0"[..]));
        assert_eq!(b.frame(1), Some(&[7u8; 10][..]));
        assert_eq!(b.frame(2), None);
        // Bytes run out before slots do: a jumbo frame that does not fit
        // is refused whole.
        let jumbo = [1u8; 9000];
        let mut n = 2;
        while b.push_padded(&jumbo, 60) {
            n += 1;
        }
        assert_eq!(n, 2 + (TX_BATCH_BYTES - 18) / 9000);
        assert_eq!(b.len(), n);
        b.clear();
        assert!(b.is_empty());
        // Slots run out before bytes do.
        for i in 0..TX_BATCH {
            assert!(b.push_padded(&[i as u8], 60));
        }
        assert!(!b.push_padded(&[0], 60), "64 frames at most");
        assert!(!TxBatch::new().push_padded(&vec![0; TX_BATCH_BYTES + 1], 0));
        let (frames, sent) = b.parts();
        assert_eq!(frames.count(), TX_BATCH);
        sent[1] = true;
        let marks: Vec<bool> = b.outcomes().map(|(_, s)| s).take(3).collect();
        assert_eq!(marks, [false, true, false]);
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
