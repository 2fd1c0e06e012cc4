package io.pgrelay.core.net;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TransportTest {
    @AfterEach
    void clear() {
        System.clearProperty("pgrelay.transport");
    }

    @Test
    void ioUringWhereTheKernelAllowsItElseEpoll() {
        Transport expected = IoUring.isAvailable() ? Transport.IO_URING
                : Epoll.isAvailable() ? Transport.EPOLL : Transport.NIO;
        assertThat(Transport.best()).isEqualTo(expected);
    }

    @Test
    void aTransportCanBeAskedFor() {
        assertThat(Epoll.isAvailable()).as("native epoll (the tests run on Linux)").isTrue();
        System.setProperty("pgrelay.transport", "epoll");
        assertThat(Transport.best()).isEqualTo(Transport.EPOLL);
        System.setProperty("pgrelay.transport", "NIO");
        assertThat(Transport.best()).isEqualTo(Transport.NIO);
    }
}
