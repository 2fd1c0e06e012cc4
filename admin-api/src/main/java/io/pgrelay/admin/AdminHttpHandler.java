package io.pgrelay.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Turns HTTP requests into {@link AdminApi} calls and their results into responses. A
 * call that runs on the operations executor completes later: reading pauses meanwhile, so
 * pipelined requests are answered in order, and the event loop never waits.
 */
final class AdminHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHttpHandler.class);

    private final AdminApi api;

    AdminHttpHandler(AdminApi api) {
        this.api = api;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (!request.decoderResult().isSuccess()) {
            write(ctx, api.error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request"), false, false);
            return;
        }
        CompletableFuture<AdminApi.Response> result = api.handle(request, ctx.channel().remoteAddress());
        if (result.isDone()) {
            write(ctx, result.join(), keepAlive, head);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        result.whenComplete((response, failure) -> ctx.executor().execute(() -> {
            AdminApi.Response answer = failure == null ? response
                    : api.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(failure.getMessage()));
            write(ctx, answer, keepAlive, head);
            ctx.channel().config().setAutoRead(true);
        }));
    }

    private static void write(ChannelHandlerContext ctx, AdminApi.Response result, boolean keepAlive, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, result.status(),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(result.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, result.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, result.body().length);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        for (Map.Entry<String, String> header : result.headers().entrySet()) {
            response.headers().set(header.getKey(), header.getValue());
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        var future = ctx.writeAndFlush(response);
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
