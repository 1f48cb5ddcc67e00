//! The blocks of a system and what travels between them.
//!
//! A block receives *calls* (`on_call`), answers them with *replies* (`Ctx::reply`), makes calls
//! of its own downstream (`Ctx::call`) and gets their replies (`on_reply`), and handles the
//! events it scheduled (`on_event`). Calls and replies are not delivered by the block that sends
//! them: they go into the engine's outbox and are delivered in order, at the same instant, after
//! the handler returns. So no handler ever runs inside another, and a block's state is always
//! whole when someone else looks at it.

pub(crate) mod balancer;
pub(crate) mod breaker;
pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod retry;
pub(crate) mod server;

use crate::queue::Time;

/// Identifies one pending thing inside a block (a request, an attempt, a forwarded call):
/// a slot in a [`Slab`] and the slot's generation, so a stale token is recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub slot: u32,
    pub generation: u32,
}

/// Where a reply goes: the calling block and its token for the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplyTo {
    pub block: u32,
    pub token: Token,
}

/// One attempt (a call) from a block to its downstream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// The request's key (for caches); retries of a request keep it.
    pub key: u64,
    /// The user's deadline (`NEVER` without a client timeout).
    pub deadline: Time,
    pub reply_to: ReplyTo,
}

/// What a reply says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Error,
}

/// Slots with generations and a free list: O(1) insert and remove, memory bounded by what is
/// live at once, stale tokens detected.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    pub(crate) fn insert(&mut self, value: T) -> Token {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.entries[slot as usize];
            entry.1 = Some(value);
            Token {
                slot,
                generation: entry.0,
            }
        } else {
            self.entries.push((0, Some(value)));
            Token {
                slot: (self.entries.len() - 1) as u32,
                generation: 0,
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, token: Token) -> Option<&T> {
        match self.entries.get(token.slot as usize) {
            Some((generation, Some(value))) if *generation == token.generation => Some(value),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        match self.entries.get_mut(token.slot as usize) {
            Some((generation, Some(value))) if *generation == token.generation => Some(value),
            _ => None,
        }
    }

    /// Takes the value out; the slot's generation moves on, so the token goes stale.
    #[inline]
    pub(crate) fn remove(&mut self, token: Token) -> Option<T> {
        let entry = self.entries.get_mut(token.slot as usize)?;
        if entry.0 != token.generation || entry.1.is_none() {
            return None;
        }
        entry.0 = entry.0.wrapping_add(1);
        self.free.push(token.slot);
        self.live -= 1;
        entry.1.take()
    }

    /// Gives a live slot a new generation (stales every earlier token for it).
    #[inline]
    pub(crate) fn renew(&mut self, token: Token) -> Option<Token> {
        let entry = self.entries.get_mut(token.slot as usize)?;
        if entry.0 != token.generation || entry.1.is_none() {
            return None;
        }
        entry.0 = entry.0.wrapping_add(1);
        Some(Token {
            slot: token.slot,
            generation: entry.0,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u32, Option<T>)>() + self.free.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_tokens_go_stale_on_remove_and_renew() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.get(a), Some(&"a"));
        let a2 = slab.renew(a).unwrap();
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(a2), Some(&"a"));
        assert_eq!(slab.remove(a2), Some("a"));
        assert_eq!(slab.remove(a2), None);
        let b = slab.insert("b");
        assert_eq!(b.slot, a.slot, "slots are reused");
        assert_eq!(slab.get(a2), None, "but old tokens stay stale");
        assert_eq!(slab.len(), 1);
    }
}
