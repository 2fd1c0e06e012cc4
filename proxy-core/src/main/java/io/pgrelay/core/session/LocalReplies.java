package io.pgrelay.core.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgrelay.protocol.Wire;
import io.pgrelay.protocol.message.Message;
import io.pgrelay.protocol.message.backend.BindComplete;
import io.pgrelay.protocol.message.backend.CloseComplete;
import io.pgrelay.protocol.message.backend.CommandComplete;
import io.pgrelay.protocol.message.backend.DataRow;
import io.pgrelay.protocol.message.backend.ErrorResponse;
import io.pgrelay.protocol.message.backend.NoData;
import io.pgrelay.protocol.message.backend.ParameterDescription;
import io.pgrelay.protocol.message.backend.ParseComplete;
import io.pgrelay.protocol.message.backend.ReadyForQuery;
import io.pgrelay.protocol.message.backend.ReadyForQuery.TransactionStatus;
import io.pgrelay.protocol.message.backend.RowDescription;

import java.util.List;

/**
 * The replies pgrelay composes for requests it answers itself, exactly as a server would send
 * them: for a simple Query one result per statement, then ReadyForQuery; for an extended request
 * one reply per message, the Executes answered by the results in order, and after an error
 * nothing until the Sync. Written into one buffer per request.
 */
final class LocalReplies {
    /** What pgrelay's answer to one executed statement is. */
    sealed interface Result {
        /** Completed with this command tag. */
        record Done(String tag) implements Result {
        }

        /** One row of one column, then this command tag. */
        record Row(RowDescription.Field column, String value, String tag) implements Result {
        }

        record Failed(ErrorResponse error) implements Result {
        }
    }

    private LocalReplies() {
    }

    static ByteBuf simple(ByteBufAllocator alloc, List<Result> results, TransactionStatus status) {
        ByteBuf out = alloc.buffer(128);
        for (Result result : results) {
            if (!write(out, result)) {
                break;
            }
        }
        write(out, ReadyForQuery.of(status));
        return out;
    }

    static ByteBuf extended(ByteBufAllocator alloc, Request request, List<Result> results, TransactionStatus status) {
        ByteBuf out = alloc.buffer(128);
        boolean failed = false;
        int next = 0;
        for (ByteBuf frame : request.frames) {
            byte type = Wire.frameType(frame);
            if (failed && type != 'S') {
                continue;
            }
            switch (type) {
                case 'P' -> write(out, ParseComplete.INSTANCE);
                case 'B' -> write(out, BindComplete.INSTANCE);
                case 'D' -> {
                    if (frame.getByte(frame.readerIndex() + Wire.HEADER_LENGTH) == 'S') {
                        write(out, new ParameterDescription(new int[0]));
                    }
                    Result result = next < results.size() ? results.get(next) : null;
                    if (result instanceof Result.Row row) {
                        write(out, new RowDescription(List.of(row.column())));
                    } else {
                        write(out, NoData.INSTANCE);
                    }
                }
                case 'E' -> {
                    Result result = next < results.size() ? results.get(next++) : new Result.Done("SELECT 0");
                    if (result instanceof Result.Row row) {
                        write(out, DataRow.ofText(row.value()));
                        write(out, new CommandComplete(row.tag()));
                    } else {
                        failed = !write(out, result);
                    }
                }
                case 'C' -> write(out, CloseComplete.INSTANCE);
                case 'S' -> {
                    write(out, ReadyForQuery.of(status));
                    failed = false;
                }
                default -> {
                }
            }
        }
        return out;
    }

    /** An error in place of a request's replies; then ReadyForQuery when the request ends with one. */
    static ByteBuf error(ByteBufAllocator alloc, ErrorResponse error, boolean ready, TransactionStatus status) {
        ByteBuf out = alloc.buffer(128);
        write(out, error);
        if (ready) {
            write(out, ReadyForQuery.of(status));
        }
        return out;
    }

    /** Writes a result; false when it is an error (nothing more is answered). */
    private static boolean write(ByteBuf out, Result result) {
        if (result instanceof Result.Done done) {
            write(out, new CommandComplete(done.tag()));
        } else if (result instanceof Result.Row row) {
            write(out, new RowDescription(List.of(row.column())));
            write(out, DataRow.ofText(row.value()));
            write(out, new CommandComplete(row.tag()));
        } else if (result instanceof Result.Failed failed) {
            write(out, failed.error());
            return false;
        }
        return true;
    }

    private static void write(ByteBuf out, Message message) {
        message.encode(out);
    }
}
