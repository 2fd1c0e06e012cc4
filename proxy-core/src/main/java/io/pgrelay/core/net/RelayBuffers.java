package io.pgrelay.core.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The allocator of client and server connections. Relaying cuts every read into frames (client
 * side) and runs of frames (server side) as retained slices of the read buffer; the pooled
 * allocator recycles those slice objects, where Netty 4.2's default (adaptive) allocator makes a
 * new object for each: several per transaction (measured with JFR, docs/benchmarks.md).
 */
public final class RelayBuffers {
    public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private RelayBuffers() {
    }
}
