package io.pgrelay.core.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.StandardSocketOptions;

/**
 * The socket transport: io_uring where the kernel allows it, else native epoll, else NIO;
 * {@code -Dpgrelay.transport=epoll|nio} picks one. io_uring is the default because it costs
 * less kernel time per round trip than epoll plus send/recv (select-only at saturation,
 * interleaved on two cores: 17.9 µs of proxy CPU per transaction against epoll's 20.8 and
 * PgBouncer's 19.5; docs/benchmarks.md). A container whose seccomp profile refuses io_uring
 * gets epoll.
 */
public enum Transport {
    EPOLL, IO_URING, NIO;

    public static Transport best() {
        String asked = System.getProperty("pgrelay.transport", Boolean.getBoolean("pgrelay.nio") ? "nio" : "");
        if (asked.equalsIgnoreCase("nio")) {
            return NIO;
        }
        boolean epoll = Epoll.isAvailable();
        if (asked.equalsIgnoreCase("epoll") && epoll) {
            return EPOLL;
        }
        if (IoUring.isAvailable()) {
            return IO_URING;
        }
        return epoll ? EPOLL : NIO;
    }

    public EventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = switch (this) {
            case EPOLL -> EpollIoHandler.newFactory();
            case IO_URING -> IoUringIoHandler.newFactory(uringConfig());
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
    }

    /**
     * Each io_uring loop registers one ring of receive buffers that its channels read into
     * ({@link #readFromSharedBuffers}): a channel that waits for input then holds no buffer of its
     * own, as it would with a plain recv submitted ahead (about 1 KB per idle client).
     */
    private static final short READ_BUFFER_GROUP = 1;

    private static IoUringIoHandlerConfig uringConfig() {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        if (IoUring.isRegisterBufferRingSupported()) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder()
                    .bufferGroupId(READ_BUFFER_GROUP)
                    .bufferRingSize((short) 256)
                    .batchSize(32)
                    .batchAllocation(false)
                    .allocator(new IoUringAdaptiveBufferRingAllocator(RelayBuffers.ALLOCATOR))
                    .build());
        }
        return config;
    }

    private boolean sharedReadBuffers() {
        return this == IO_URING && IoUring.isRegisterBufferRingSupported();
    }

    /** Client and server connections read into their loop's shared buffers where the transport has them. */
    public void readFromSharedBuffers(ServerBootstrap bootstrap) {
        if (sharedReadBuffers()) {
            bootstrap.childOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, READ_BUFFER_GROUP);
        }
    }

    public void readFromSharedBuffers(Bootstrap bootstrap) {
        if (sharedReadBuffers()) {
            bootstrap.option(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, READ_BUFFER_GROUP);
        }
    }

    /**
     * Whether a channel can be deregistered from one loop and registered with another. Netty's
     * io_uring channels do not complete the deregistration while a receive is submitted, and a
     * pooled server connection always has one.
     */
    public boolean movesChannelsBetweenLoops() {
        return this != IO_URING;
    }

    /** TCP keepalive timing, where the transport can set it (NIO cannot). */
    public void keepalive(Bootstrap bootstrap, int idleSeconds, int intervalSeconds, int count) {
        switch (this) {
            case EPOLL -> bootstrap.option(EpollChannelOption.TCP_KEEPIDLE, idleSeconds)
                    .option(EpollChannelOption.TCP_KEEPINTVL, intervalSeconds)
                    .option(EpollChannelOption.TCP_KEEPCNT, count);
            case IO_URING -> bootstrap.option(IoUringChannelOption.TCP_KEEPIDLE, idleSeconds)
                    .option(IoUringChannelOption.TCP_KEEPINTVL, intervalSeconds)
                    .option(IoUringChannelOption.TCP_KEEPCNT, count);
            case NIO -> { }
        }
    }

    /**
     * Lets another process bind the same address while this one listens ({@code SO_REUSEPORT}):
     * the kernel spreads new connections over every listener, so a new pgrelay can take over
     * the port before the old one stops accepting (rolling restart). Both must set it and run
     * as the same user.
     */
    public void reusePort(ServerBootstrap bootstrap) {
        switch (this) {
            case EPOLL -> bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
            case IO_URING -> bootstrap.option(IoUringChannelOption.SO_REUSEPORT, true);
            case NIO -> bootstrap.option(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
        }
    }

    public Class<? extends ServerChannel> serverChannel() {
        return switch (this) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> clientChannel() {
        return switch (this) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }
}
