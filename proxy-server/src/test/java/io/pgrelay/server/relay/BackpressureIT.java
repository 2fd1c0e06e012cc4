package io.pgrelay.server.relay;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.pgrelay.protocol.message.frontend.Query;
import io.pgrelay.server.testing.RawPgClient;
import io.pgrelay.server.testing.TestProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client reading a huge result slowly must not make the proxy buffer it: pgrelay stops
 * reading the backend while the client socket is full.
 */
class BackpressureIT {
    private static TestProxy proxy;

    @BeforeAll
    static void start() {
        proxy = TestProxy.start("""
                auth:
                  method: trust
                  users:
                    - { name: app, password: app }
                """);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static long usedDirectMemory() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            return provider.metric().usedDirectMemory() + provider.metric().usedHeapMemory();
        }
        throw new AssertionError("allocator exposes no metrics: " + ByteBufAllocator.DEFAULT);
    }

    @Test
    void slowReaderDoesNotGrowProxyMemory() throws Exception {
        long baseline = usedDirectMemory();
        long rows = 400_000;
        int width = 1000;
        try (RawPgClient client = new RawPgClient(proxy.host(), proxy.port(), 64 * 1024)) {
            client.login("app", "app");
            client.send(new Query("SELECT repeat('x', " + width + ") FROM generate_series(1, " + rows + ")"));
            // Read nothing for a while: the result (~400 MB) must stay in PostgreSQL, not in the proxy.
            long peak = 0;
            for (int i = 0; i < 20; i++) {
                Thread.sleep(100);
                peak = Math.max(peak, usedDirectMemory() - baseline);
            }
            assertThat(peak).as("proxy memory held for a stalled client").isLessThan(32L * 1024 * 1024);

            DataInputStream in = client.input();
            long dataRows = 0;
            while (true) {
                byte type = in.readByte();
                int length = in.readInt();
                in.skipNBytes(length - 4);
                if (type == 'D') {
                    dataRows++;
                    if (dataRows % 50_000 == 0) {
                        peak = Math.max(peak, usedDirectMemory() - baseline);
                    }
                } else if (type == 'Z') {
                    break;
                } else if (type == 'E') {
                    throw new AssertionError("query failed");
                }
            }
            assertThat(dataRows).isEqualTo(rows);
            assertThat(peak).as("proxy memory while relaying").isLessThan(32L * 1024 * 1024);
        }
    }
}
