package io.pgrelay.core.session;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.pgrelay.core.net.Transport;
import io.pgrelay.protocol.message.Messages;
import io.pgrelay.protocol.message.frontend.CancelRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Delivers a CancelRequest to a backend server on a short-lived connection, as libpq
 * does. The server answers nothing and closes; we close after a few seconds regardless.
 * Deliveries under way are counted so that a shutdown lets them reach the server before the
 * event loops stop (a statement left running would hold its backend until it ends by itself).
 */
public final class CancelSender {
    private static final Logger log = LoggerFactory.getLogger(CancelSender.class);

    private final Transport transport;
    private final Object lock = new Object();
    private int underWay;

    public CancelSender(Transport transport) {
        this.transport = transport;
    }

    public void send(EventLoop loop, String host, int port, int processId, int secretKey) {
        started();
        new Bootstrap()
                .group(loop)
                .channel(transport.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(Messages.encode(ctx.alloc(), new CancelRequest(processId, secretKey)))
                                .addListener(written -> {
                                    ended();
                                    if (!written.isSuccess()) {
                                        log.warn("could not deliver a cancel request to {}:{}: {}", host, port,
                                                written.cause().toString());
                                    }
                                });
                        ctx.executor().schedule(() -> ctx.close(), 5, TimeUnit.SECONDS);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                })
                .connect(new InetSocketAddress(host, port))
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        ended();
                        log.warn("could not deliver a cancel request to {}:{}: {}", host, port, f.cause().getMessage());
                    }
                });
    }

    /**
     * Waits until every cancel request sent so far is written to its server or has failed, at most
     * {@code timeout}; true when none is left under way.
     */
    public boolean awaitDelivered(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (underWay > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private void started() {
        synchronized (lock) {
            underWay++;
        }
    }

    private void ended() {
        synchronized (lock) {
            underWay--;
            lock.notifyAll();
        }
    }
}
