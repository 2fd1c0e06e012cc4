package io.pgrelay.core.backend;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The worker event loops, numbered so per-loop state can live in plain arrays. */
public final class EventLoops {
    private final List<EventLoop> loops;
    private final Map<EventExecutor, Integer> indexes = new IdentityHashMap<>();

    public EventLoops(EventLoopGroup group) {
        List<EventLoop> found = new ArrayList<>();
        for (EventExecutor executor : group) {
            indexes.put(executor, found.size());
            found.add((EventLoop) executor);
        }
        this.loops = List.copyOf(found);
    }

    public int size() {
        return loops.size();
    }

    public EventLoop get(int index) {
        return loops.get(index);
    }

    public int indexOf(EventLoop loop) {
        Integer index = indexes.get(loop);
        if (index == null) {
            throw new IllegalArgumentException("not a worker event loop: " + loop);
        }
        return index;
    }

    public List<EventLoop> all() {
        return loops;
    }
}
