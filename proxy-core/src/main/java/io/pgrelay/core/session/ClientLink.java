package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** What the session engine needs of the client connection (the Netty handler). */
interface ClientLink {
    ByteBufAllocator alloc();

    /** Queues bytes for the client (ownership passes). */
    void write(ByteBuf bytes);

    void flush();

    boolean isWritable();

    /** Reads more from the client when nothing waits: called whenever the engine may have become free. */
    void readMore();

    /** Ends the connection with a FATAL error. */
    void fatal(String sqlState, String message);

    /** Ends the connection with this error (made FATAL by the caller). */
    void close(io.pgrelay.protocol.message.backend.ErrorResponse error);

    /** Ends the connection for what went wrong (a protocol violation: its SQLSTATE; else an internal error). */
    void fail(RuntimeException e);

    /** The client cannot take more for now: backends are read again once it can. */
    void backendReadPaused();

    /** Processes the client's queued frames (the engine is free again). */
    void drain();

    String describe();

    /** The session may be between transactions now (a ReadyForQuery came back): a shutdown may end it here. */
    void quiet();
}
