package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgrelay.protocol.message.Message;
import io.pgrelay.protocol.message.backend.BindComplete;
import io.pgrelay.protocol.message.backend.CloseComplete;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.NoData;
import io.pgrelay.protocol.message.backend.ParameterDescription;
import io.pgrelay.protocol.message.backend.ParseComplete;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.RowDescription;

/**
 * Replies pgrelay composes itself for statements it answers without a server: settings of
 * its own ({@code SET pgrelay.route}), a deferred BEGIN, the end of a transaction that
 * never reached a server. Written into one buffer per reply batch.
 */
final class LocalAnswers {
    private final ByteBuf out;

    LocalAnswers(ByteBufAllocator alloc) {
        this.out = alloc.buffer(128);
    }

    LocalAnswers message(Message message) {
        message.encode(out);
        return this;
    }

    LocalAnswers commandComplete(String tag) {
        return message(new CommandComplete(tag));
    }

    LocalAnswers showRow(String name, String value) {
        message(RowDescription.ofText(name));
        message(DataRow.ofText(value));
        return commandComplete("SHOW");
    }

    LocalAnswers rowDescription(String name) {
        return message(RowDescription.ofText(name));
    }

    LocalAnswers dataRow(String value) {
        return message(DataRow.ofText(value));
    }

    LocalAnswers parseComplete() {
        return message(ParseComplete.INSTANCE);
    }

    LocalAnswers bindComplete() {
        return message(BindComplete.INSTANCE);
    }

    LocalAnswers closeComplete() {
        return message(CloseComplete.INSTANCE);
    }

    LocalAnswers noData() {
        return message(NoData.INSTANCE);
    }

    LocalAnswers noParameters() {
        return message(new ParameterDescription(new int[0]));
    }

    LocalAnswers ready(ReadyForQuery.TransactionStatus status) {
        return message(ReadyForQuery.of(status));
    }

    ByteBuf buffer() {
        return out;
    }
}
