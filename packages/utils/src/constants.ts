// The constants of the C course's xps.h that still mean something in Node.
// MAX_EPOLL_EVENTS has no counterpart: libuv owns the epoll set and its batch size.

/**
 * Backlog handed to listen(): connections the kernel queues before they are
 * accepted. The C course uses 64; a burst of clients then overflows the
 * queue and the kernel resets some of them. 511 is nginx's default (and
 * Node's own): the queue of a busy server, which Node drains at once.
 */
export const DEFAULT_BACKLOG = 511;

/** Size of "a default buffer" (xps_buffer): the most one source read takes at a time. */
export const DEFAULT_BUFFER_SIZE = 100_000;

/** A NULL-slot list is compacted once it holds more than this many empty slots. */
export const DEFAULT_NULLS_THRESH = 32;

/** A pipe accepts writes while it buffers fewer bytes than this (stage 10). */ // @since 10
export const DEFAULT_PIPE_BUFF_THRESH = 1_000_000; // @since 10

/** Where listeners bind unless told otherwise: loopback only, a safe default. */
export const DEFAULT_HOST = "127.0.0.1";

/** The four ports the course's server listens on from stage 6 onward. */
export const DEFAULT_PORTS: readonly number[] = [8001, 8002, 8003, 8004];

export const SERVER_NAME = "eXpServer"; // @since 15
