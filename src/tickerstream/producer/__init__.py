"""``ticker-produce`` as a library: read and parse inputs, deliver ticks and rejects to Kafka.

:class:`~tickerstream.producer.runner.Producer` is the runner (the command and the main job on Kafka
both use it), shaped like the :class:`~tickerstream.processor.Processor`. ``tick_producer`` batches and
delivers; ``once`` reads every input once (``inputs`` in a thread, ``workers`` in processes),
``follow`` keeps reading growing files, directories and stdin, ``progress`` reports while it runs.
"""
